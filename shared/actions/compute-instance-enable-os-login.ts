import { isOn, metadataSettingAction } from './compute-metadata-setting.js';

/** CIS 4.4 (catalog F20): enable-oslogin=TRUE on the VM, replacing an instance-level override that turned it off. */
export const instanceEnableOsLogin = metadataSettingAction({
  id: 'compute.instance.enable-os-login',
  title: 'Enable OS Login on a VM',
  risk: 'medium',
  scope: 'instance',
  key: 'enable-oslogin',
  value: 'TRUE',
  isFixed: isOn,
  why: 'SSH access is then governed by IAM instead of metadata keys',
});
