// "Edit Notes": GET the volume's attributes, PUT its notes.

import {api} from '../api.js';
import {FormDialog} from '../dialogs.js';
import {h} from '../util.js';

/** Edit the notes of the volume at `path` (.../content/{volid}); resolves true once saved. */
export async function editNotes(ctx, path) {
  const notes = h('wa-textarea', {name: 'notes', label: 'Notes', rows: '4', resize: 'vertical'});
  const dialog = new FormDialog({
    label: 'Notes',
    width: '34rem',
    className: 'edit-notes',
    content: [notes],
    onSubmit: async () => {
      await api.put(path, {notes: notes.value});
      return true;
    },
  });
  const shown = dialog.show();
  try {
    const info = await api.get(path);
    notes.value = info.notes ?? '';
  } catch (err) {
    dialog.error.show(err);
  }
  return (await shown) === true;
}
