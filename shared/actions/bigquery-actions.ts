import { addDatasetRequiredLabels } from './bigquery-dataset-add-required-labels.js';
import { removeDatasetPublicAccess } from './bigquery-dataset-remove-public-access.js';
import type { RemediationAction } from './types.js';

/** BigQuery dataset remediations. */
export const BIGQUERY_ACTIONS: RemediationAction[] = [removeDatasetPublicAccess, addDatasetRequiredLabels];
