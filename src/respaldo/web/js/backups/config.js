// "Show Configuration" (Proxmox's window/BackupConfig.js): the guest config stored in the
// archive, GET /nodes/{node}/vzdump/extractconfig.

import {api, seg} from '../api.js';
import {FormDialog} from '../dialogs.js';
import {h, volumeName} from '../util.js';

export async function showBackupConfig(ctx, volid) {
  const text = h('pre', {class: 'backup-config', tabindex: '0', 'aria-label': 'Configuration'}, 'Loading…');
  const dialog = new FormDialog({
    label: `Configuration: ${volumeName(volid)}`,
    width: '44rem',
    className: 'backup-config-dialog',
    content: [text],
  });
  const shown = dialog.show();
  try {
    text.textContent = await api.get(`/nodes/${seg(ctx.node)}/vzdump/extractconfig`, {volume: volid});
  } catch (err) {
    text.textContent = '';
    dialog.error.show(err);
  }
  return shown;
}
