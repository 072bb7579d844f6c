// The matcher editor (proxmox-widget-toolkit window/NotificationMatcherEdit.js, "Create:
// Notification Matcher") in three tabs: General (Matcher Name, Enable, Comment), Match Rules
// (Match if: all / any / not all / none; a severity rule; field rules such as
// exact:job-id=<job> or exact:type=vzdump) and Targets to notify (check boxes).
// POST /cluster/notifications/matchers, or PUT .../matchers/{name} when editing.

import {api, seg} from '../api.js';
import {FormDialog} from '../dialogs.js';
import {tabGroup, text} from '../forms.js';
import {h} from '../util.js';
import {MATCH_MODES, SEVERITIES, matcherParams, matcherValues} from './model.js';

const BASE = '/cluster/notifications/matchers';
/** The metadata fields respaldo's notifications carry (proxmox-notify's for vzdump). */
const FIELDS = ['type', 'job-id', 'hostname'];

/** The field rules: one row each (match type, field, value) and "Add". */
class FieldRules {
  constructor() {
    this.rows = h('div', {class: 'rule-rows'});
    this.element = h('fieldset', {class: 'field-rules'}, h('legend', {}, 'Match Field'), this.rows,
      h('wa-button', {size: 's', appearance: 'outlined', class: 'add-rule', onclick: () => this.add()}, 'Add'));
  }

  add(rule = {type: 'exact', field: 'job-id', value: ''}) {
    const n = this.rows.children.length + 1;
    const fields = FIELDS.includes(rule.field) || !rule.field ? FIELDS : [...FIELDS, rule.field];
    const row = h('div', {class: 'rule-row'},
      h('wa-select', {label: `Rule ${n}: match type`, size: 's', class: 'rule-type', value: rule.type},
        h('wa-option', {value: 'exact'}, 'Exact'), h('wa-option', {value: 'regex'}, 'Regex')),
      h('wa-select', {label: `Rule ${n}: field`, size: 's', class: 'rule-field', value: rule.field},
        fields.map((name) => h('wa-option', {value: name}, name))),
      h('wa-input', {label: `Rule ${n}: value`, size: 's', class: 'rule-value', value: rule.value}),
      h('wa-button', {size: 's', appearance: 'plain', variant: 'danger', class: 'remove-rule',
        onclick: () => row.remove()}, 'Remove'));
    this.rows.append(row);
  }

  get value() {
    return [...this.rows.children].map((row) => ({
      type: row.querySelector('.rule-type').value,
      field: String(row.querySelector('.rule-field').value ?? ''),
      value: text(row.querySelector('.rule-value')),
    }));
  }
}

/** The targets to notify: a check box per target (name, type, comment). */
function targetList(targets, chosen) {
  const known = new Set(targets.map((t) => t.name));
  const rows = [...targets, ...chosen.filter((name) => !known.has(name))
    .map((name) => ({name, type: '-', comment: 'Included target does not exist!'}))];
  const boxes = rows.map((t) => h('wa-checkbox', {class: 'target-check', dataset: {name: t.name},
    props: {checked: chosen.includes(t.name)}}, h('span', {class: 'sr-only'}, `Notify ${t.name}`)));
  const table = h('table', {class: 'targets', 'aria-label': 'Targets to notify'},
    h('thead', {}, h('tr', {}, h('th', {scope: 'col', class: 'check'}, h('span', {class: 'sr-only'}, 'Notify')),
      ['Target Name', 'Type', 'Comment'].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, rows.length ? rows.map((t, i) => h('tr', {}, h('td', {class: 'check'}, boxes[i]),
      h('td', {}, t.name), h('td', {}, t.type), h('td', {}, t.comment ?? '')))
      : h('tr', {class: 'empty'}, h('td', {colspan: '4'}, 'No notification targets configured'))));
  return {element: table, value: () => boxes.filter((b) => b.checked).map((b) => b.dataset.name)};
}

/** The matcher editor; `name` edits that matcher. Resolves true once saved. */
export async function openMatcherEditor(name) {
  const isCreate = !name;
  const f = {
    name: h('wa-input', {name: 'name', label: 'Matcher Name', required: true, readonly: !isCreate,
      value: name ?? '', pattern: '[A-Za-z][A-Za-z0-9_\\-]+', maxlength: '50'}),
    enable: h('wa-checkbox', {name: 'enable', props: {checked: true}}, 'Enable'),
    comment: h('wa-input', {name: 'comment', label: 'Comment'}),
    mode: h('wa-select', {name: 'mode', label: 'Match if', value: 'all'},
      MATCH_MODES.map(([v, t]) => h('wa-option', {value: v}, t))),
    matchSeverity: h('wa-checkbox', {name: 'match-severity', class: 'match-severity'}, 'Match Severity'),
    severities: SEVERITIES.map(([v, t]) => h('wa-checkbox', {class: 'severity', dataset: {severity: v}}, t)),
  };
  const rules = new FieldRules();
  const targetsPanel = h('div', {class: 'editor-panel targets-panel'});
  let targets = {value: () => []};
  const severityChanged = () => {
    for (const box of f.severities) box.disabled = !f.matchSeverity.checked;
  };
  f.matchSeverity.addEventListener('change', severityChanged);
  const values = () => ({
    name: text(f.name), enable: f.enable.checked, comment: text(f.comment), mode: f.mode.value,
    matchSeverity: f.matchSeverity.checked,
    severities: f.severities.filter((b) => b.checked).map((b) => b.dataset.severity),
    fields: rules.value, targets: targets.value(),
  });
  const dialog = new FormDialog({
    label: isCreate ? 'Create: Notification Matcher' : 'Edit: Notification Matcher',
    width: '46rem',
    className: 'matcher-edit',
    submitLabel: isCreate ? 'Add' : 'OK',
    content: tabGroup([
      ['general', 'General', h('div', {class: 'editor-panel'}, f.name, f.enable, f.comment)],
      ['rules', 'Match Rules', h('div', {class: 'editor-panel'}, f.mode,
        h('fieldset', {class: 'severities'}, h('legend', {}, f.matchSeverity),
          h('div', {class: 'checks'}, f.severities)),
        rules.element)],
      ['targets', 'Targets to notify', targetsPanel],
    ]),
    onSubmit: () => {
      const params = matcherParams(values(), isCreate);
      return isCreate ? api.post(BASE, params) : api.put(`${BASE}/${seg(name)}`, params);
    },
  });
  const shown = dialog.show();
  try {
    const [list, entry] = await Promise.all([
      api.get('/cluster/notifications/targets'),
      isCreate ? null : api.get(`${BASE}/${seg(name)}`),
    ]);
    const v = matcherValues(entry);
    f.enable.checked = v.enable;
    f.comment.value = v.comment;
    f.mode.value = v.mode;
    f.matchSeverity.checked = v.matchSeverity;
    for (const box of f.severities) box.checked = v.severities.includes(box.dataset.severity);
    for (const rule of v.fields) rules.add(rule);
    targets = targetList(list ?? [], v.targets);
    targetsPanel.replaceChildren(targets.element);
    severityChanged();
  } catch (err) {
    dialog.error.show(err);
    dialog.submitButton.disabled = true; // not over a matcher unread, nor without targets
  }
  return (await shown) !== undefined;
}
