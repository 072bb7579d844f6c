// Datacenter → Notifications (proxmox-widget-toolkit panel/NotificationConfigView.js):
// - Notification Targets (GET /cluster/notifications/targets): Enable, Target Name, Type,
//   Comment, Origin; Add SMTP / Add Webhook, Modify, Remove, Test (POST .../targets/{name}/test);
// - Notification Matchers (GET /cluster/notifications/matchers): Enable, Matcher Name,
//   Comment, Origin; Add, Modify, Remove.

import {api, seg, session} from '../api.js';
import {confirmDialog, errorBox, loadPanel, messageDialog} from '../dialogs.js';
import {DataGrid} from '../grid.js';
import {h} from '../util.js';
import {addTab} from '../views/registry.js';
import {openSmtpEditor, openWebhookEditor} from './endpoint.js';
import {openMatcherEditor} from './matcher.js';

const BASE = '/cluster/notifications';
const EDITORS = {smtp: openSmtpEditor, webhook: openWebhookEditor};
const ORIGINS = {'user-created': 'Custom', 'modified-builtin': 'Built-In (modified)', builtin: 'Built-In'};

const enabledColumn = {id: 'enable', header: 'Enable', width: '6rem', value: (r) => (Number(r.disable ?? 0) ? 0 : 1),
  html: (r) => (Number(r.disable ?? 0)
    ? '<span class="icon off" aria-hidden="true"></span><span class="enabled-text">No</span>'
    : '<span class="icon check" aria-hidden="true"></span><span class="enabled-text">Yes</span>')};
const originColumn = {id: 'origin', header: 'Origin', width: '9rem', value: (r) => ORIGINS[r.origin] ?? 'unknown'};

function button(cls, label, onclick, attrs = {}) {
  return h('wa-button', {size: 's', appearance: 'outlined', class: cls, onclick, ...attrs}, label);
}

/** One of the two lists: a title, a toolbar, a grid loaded from `path`. */
class Section {
  constructor({title, path, label, emptyText, columns, buttons, onActivate, className}) {
    this.path = path;
    this.error = errorBox();
    this.grid = new DataGrid({
      label, emptyText, columns, rowId: (row) => row.name, sort: {column: 'name', descending: false},
      onSelect: () => this.onSelect?.(), onActivate,
    });
    this.element = h('section', {class: `notification-section ${className}`, 'aria-label': title,
      dataset: {state: 'loading'}},
    h('h2', {class: 'section-title'}, title),
    h('div', {class: 'toolbar', role: 'group', 'aria-label': `${title}: actions`}, buttons),
    this.error.element, this.grid.element);
  }

  get selected() {
    return this.grid.selected;
  }

  async load() {
    await loadPanel(this.element, this.error, async () => {
      this.grid.setRows(await api.get(this.path) ?? []);
    });
    this.onSelect?.();
  }

  async remove(url, what) {
    const row = this.selected;
    if (!(await confirmDialog(`Are you sure you want to remove entry '${row.name}'?`, {label: `Remove ${what}`}))) return;
    this.error.clear();
    try {
      await api.del(url(row));
    } catch (err) {
      this.error.show(err); // (a reload would clear it)
      return;
    }
    await this.load();
  }
}

class NotificationsView {
  constructor() {
    const may = () => session.can('mapping', 'Mapping.Modify');
    const t = {
      addSmtp: button('add-smtp', 'Add SMTP', () => this.after(this.targets, openSmtpEditor()), {variant: 'brand'}),
      addWebhook: button('add-webhook', 'Add Webhook', () => this.after(this.targets, openWebhookEditor()), {variant: 'brand'}),
      modify: button('modify', 'Modify', () => this.editTarget()),
      remove: button('remove', 'Remove', () => this.targets.remove(
        (row) => `${BASE}/endpoints/${seg(row.type)}/${seg(row.name)}`, 'target'), {variant: 'danger'}),
      test: button('test', 'Test', () => this.test()),
    };
    this.targets = new Section({
      title: 'Notification Targets', path: `${BASE}/targets`, label: 'Notification targets',
      emptyText: 'No notification targets configured', className: 'targets-section',
      columns: [enabledColumn,
        {id: 'name', header: 'Target Name', value: (r) => r.name},
        {id: 'type', header: 'Type', width: '8rem', value: (r) => r.type},
        {id: 'comment', header: 'Comment', value: (r) => r.comment ?? ''},
        originColumn],
      buttons: Object.values(t),
      onActivate: () => this.editTarget(),
    });
    this.targets.onSelect = () => {
      const row = this.targets.selected;
      t.addSmtp.disabled = !may();
      t.addWebhook.disabled = !may();
      t.modify.disabled = !row || !may() || !EDITORS[row.type];
      t.remove.disabled = !row || !may() || row.origin === 'builtin';
      t.test.disabled = !row;
    };
    const m = {
      add: button('add', 'Add', () => this.after(this.matchers, openMatcherEditor()), {variant: 'brand'}),
      modify: button('modify', 'Modify', () => this.editMatcher()),
      remove: button('remove', 'Remove', () => this.matchers.remove(
        (row) => `${BASE}/matchers/${seg(row.name)}`, 'matcher'), {variant: 'danger'}),
    };
    this.matchers = new Section({
      title: 'Notification Matchers', path: `${BASE}/matchers`, label: 'Notification matchers',
      emptyText: 'No notification matchers configured', className: 'matchers-section',
      columns: [enabledColumn,
        {id: 'name', header: 'Matcher Name', value: (r) => r.name},
        {id: 'comment', header: 'Comment', value: (r) => r.comment ?? ''},
        originColumn],
      buttons: Object.values(m),
      onActivate: () => this.editMatcher(),
    });
    this.matchers.onSelect = () => {
      const row = this.matchers.selected;
      m.add.disabled = !may();
      m.modify.disabled = !row || !may();
      m.remove.disabled = !row || !may() || row.origin === 'builtin';
    };
    this.element = h('div', {class: 'notifications-view'}, this.targets.element, this.matchers.element);
    this.targets.load();
    this.matchers.load();
  }

  /** Reload a list once the editor opened from it saved. */
  async after(section, saved) {
    if (await saved) await section.load();
  }

  editTarget() {
    const row = this.targets.selected;
    const editor = row && EDITORS[row.type];
    if (editor && session.can('mapping', 'Mapping.Modify')) this.after(this.targets, editor(row.name));
  }

  editMatcher() {
    const row = this.matchers.selected;
    if (row && session.can('mapping', 'Mapping.Modify')) this.after(this.matchers, openMatcherEditor(row.name));
  }

  async test() {
    const name = this.targets.selected.name;
    const question = `Do you want to send a test notification to '${name}'?`;
    if (!(await confirmDialog(question, {label: 'Notification Target Test'}))) return;
    this.targets.error.clear();
    try {
      await api.post(`${BASE}/targets/${seg(name)}/test`);
    } catch (err) {
      this.targets.error.show(err);
      return;
    }
    await messageDialog(`Sent test notification to '${name}'.`, {label: 'Notification Target Test'});
  }
}

addTab('root', {id: 'notifications', label: 'Notifications', render: (panel) => {
  const view = new NotificationsView();
  panel.append(view.element);
  return view;
}});
