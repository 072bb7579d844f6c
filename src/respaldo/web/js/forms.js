// Pieces of the editors (backup jobs, notification targets and matchers): a select, tabs in a
// dialog, a field's text, and the parameters of a create (POST) or an edit (PUT with
// `delete` for what was emptied), as Proxmox's edit windows submit them.

import {h} from './util.js';

/** A <wa-select> of [value, text] options. */
export function select(name, label, options, value, attrs = {}) {
  return h('wa-select', {name, label, value, ...attrs},
    options.map(([v, text]) => h('wa-option', {value: v}, text)));
}

/** Tabs of an editor: [name, label, content] each, the first one shown. */
export function tabGroup(tabs) {
  const group = h('wa-tab-group', {class: 'editor-tabs', active: tabs[0][0]});
  tabs.forEach(([name, label], index) => group.append(
    h('wa-tab', {slot: 'nav', panel: name, active: index === 0}, label)));
  // each panel marked at once: the group marks its active panel only once laid out
  tabs.forEach(([name, , content], index) => group.append(
    h('wa-tab-panel', {name, active: index === 0}, content)));
  return group;
}

/** A field's value as trimmed text ('' when empty). */
export function text(el) {
  return String(el.value ?? '').trim();
}

/**
 * The parameters of a create or an edit: `set` leaves an empty value out of a create and
 * deletes it in an edit; `enable` turns an Enable box into `disable`.
 */
export class EditParams {
  constructor(isCreate) {
    this.isCreate = isCreate;
    this.params = {};
    this.deleted = [];
  }

  set(key, value) {
    const trimmed = value === undefined || value === null ? '' : String(value).trim();
    if (trimmed !== '') this.params[key] = trimmed;
    else if (!this.isCreate) this.deleted.push(key);
  }

  /** Delete keys in an edit (nothing to do in a create). */
  remove(...keys) {
    if (!this.isCreate) this.deleted.push(...keys);
  }

  enable(enabled) {
    if (!enabled) this.params.disable = 1;
    else this.remove('disable');
  }

  /** The parameters, with `delete` (comma-separated) when something was emptied. */
  result() {
    if (this.deleted.length) this.params.delete = this.deleted.join(',');
    return this.params;
  }
}
