import { isOn, metadataSettingAction } from './compute-metadata-setting.js';

/** CIS 4.5: serial-port-enable=FALSE on the VM (an explicit value: an absent key would inherit the project's). */
export const instanceDisableSerialPort = metadataSettingAction({
  id: 'compute.instance.disable-serial-port',
  title: 'Disable interactive serial console access on a VM',
  risk: 'low',
  scope: 'instance',
  key: 'serial-port-enable',
  value: 'FALSE',
  isFixed: (v) => v !== null && !isOn(v),
  why: 'the interactive serial console bypasses firewall rules',
});
