// The deployable entry module: functions-framework's --target picks one of these (see terraform/functions.tf).
import { register as registerApi } from './api/index.js';
import { register as registerAssessRisk } from './assess-risk/index.js';
import { register as registerDetect, registerChangeLog, registerSweep } from './detect/index.js';
import { register as registerExecute } from './execute/index.js';
import { register as registerReport } from './report/index.js';
import { register as registerRollback } from './rollback/index.js';
import { register as registerRequestApproval } from './request-approval/index.js';

registerDetect();
registerSweep();
registerChangeLog();
registerAssessRisk();
registerExecute();
registerRollback();
registerReport();
registerRequestApproval();
registerApi();
