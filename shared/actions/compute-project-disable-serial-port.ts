import { isOn, metadataSettingAction } from './compute-metadata-setting.js';

/** CIS 4.5: serial-port-enable=FALSE in the compute project's common instance metadata (absent = off already). */
export const projectDisableSerialPort = metadataSettingAction({
  id: 'compute.project.disable-serial-port',
  title: "Disable interactive serial console access in a project's common instance metadata",
  risk: 'low',
  scope: 'project',
  key: 'serial-port-enable',
  value: 'FALSE',
  isFixed: (v) => !isOn(v),
  why: 'the interactive serial console bypasses firewall rules',
});
