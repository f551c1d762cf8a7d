import { addRequiredLabelsAction } from './compute-labels.js';

/** disks.setLabels with the missing keys of settings.requiredLabels added (labels-compute-disk-required). */
export const diskAddRequiredLabels = addRequiredLabelsAction('disk');
