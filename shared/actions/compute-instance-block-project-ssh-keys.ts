import { isOn, metadataSettingAction } from './compute-metadata-setting.js';

/** CIS 4.3: block-project-ssh-keys=TRUE, so project-wide SSH keys no longer log in to this VM. */
export const instanceBlockProjectSshKeys = metadataSettingAction({
  id: 'compute.instance.block-project-ssh-keys',
  title: 'Block project-wide SSH keys on a VM',
  risk: 'medium',
  scope: 'instance',
  key: 'block-project-ssh-keys',
  value: 'TRUE',
  isFixed: isOn,
  why: 'project-wide SSH keys would otherwise log in to this VM',
});
