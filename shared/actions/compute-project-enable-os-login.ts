import { isOn, metadataSettingAction } from './compute-metadata-setting.js';

/** CIS 4.4 (catalog F20): enable-oslogin=TRUE in the compute project's common instance metadata. */
export const projectEnableOsLogin = metadataSettingAction({
  id: 'compute.project.enable-os-login',
  title: "Enable OS Login in a project's common instance metadata",
  risk: 'medium',
  scope: 'project',
  key: 'enable-oslogin',
  value: 'TRUE',
  isFixed: isOn,
  why: "SSH access to the project's VMs is then governed by IAM instead of metadata keys",
});
