import { addRequiredLabelsAction } from './compute-labels.js';

/** instances.setLabels with the missing keys of settings.requiredLabels added (labels-compute-instance-required). */
export const instanceAddRequiredLabels = addRequiredLabelsAction('instance');
