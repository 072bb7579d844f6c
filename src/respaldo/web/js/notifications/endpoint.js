// The editors of notification targets (proxmox-widget-toolkit window/EndpointEditBase.js):
// - SMTP ("Create: SMTP"): Endpoint Name, Enable, Server, Encryption, Port, Authenticate,
//   Username, Password, From Address, Recipient(s) (users with an email), Additional
//   Recipient(s), Comment, Author;
// - Webhook ("Create: Webhook"): Endpoint Name, Enable, Method/URL, Headers, Body, Secrets,
//   Comment.
// POST /cluster/notifications/endpoints/<type>, or PUT .../<type>/{name} when editing.

import {api, seg} from '../api.js';
import {FormDialog} from '../dialogs.js';
import {select, text} from '../forms.js';
import {h} from '../util.js';
import {SMTP_PORTS, smtpParams, smtpValues, webhookParams, webhookValues} from './model.js';

const BASE = '/cluster/notifications/endpoints';

function input(name, label, attrs = {}) {
  return h('wa-input', {name, label, ...attrs});
}

function nameField(isCreate, name) {
  return input('name', 'Endpoint Name', {required: true, readonly: !isCreate, value: name ?? '',
    pattern: '[A-Za-z][A-Za-z0-9_\\-]+', maxlength: '50'});
}

/** Open an editor: load the entry when editing, submit, resolve true once saved. */
async function run(dialog, type, name, fill) {
  const shown = dialog.show();
  try {
    await fill(name ? await api.get(`${BASE}/${type}/${seg(name)}`) : null);
  } catch (err) {
    dialog.error.show(err);
    if (name) dialog.submitButton.disabled = true; // not over a target unread
  }
  return (await shown) !== undefined;
}

/** The editor's dialog: "Create: <Kind>" or "Edit: <Kind>"; it submits `params()`. */
function editorDialog(type, kind, name, content, params) {
  return new FormDialog({
    label: `${name ? 'Edit' : 'Create'}: ${kind}`,
    width: '44rem',
    className: `endpoint-edit ${type}-edit`,
    submitLabel: name ? 'OK' : 'Add',
    content,
    onSubmit: () => (name ? api.put(`${BASE}/${type}/${seg(name)}`, params())
      : api.post(`${BASE}/${type}`, params())),
  });
}

/** The SMTP editor; `name` edits that target. Resolves true once saved. */
export async function openSmtpEditor(name) {
  const isCreate = !name;
  const f = {
    name: nameField(isCreate, name),
    enable: h('wa-checkbox', {name: 'enable', props: {checked: true}}, 'Enable'),
    server: input('server', 'Server', {required: true, placeholder: 'mail.example.com'}),
    mode: select('mode', 'Encryption', [['insecure', 'None (insecure)'], ['starttls', 'STARTTLS'], ['tls', 'TLS']], 'tls'),
    port: input('port', 'Port', {type: 'number', min: '1', max: '65535'}),
    authentication: h('wa-checkbox', {name: 'authentication', props: {checked: true}}, 'Authenticate'),
    username: input('username', 'Username', {required: true, autocomplete: 'off'}),
    password: input('password', 'Password', {type: 'password', required: isCreate,
      autocomplete: 'new-password', placeholder: isCreate ? '' : 'Unchanged'}),
    fromAddress: input('from-address', 'From Address', {required: true, placeholder: 'user@example.com'}),
    mailtoUser: h('wa-select', {name: 'mailto-user', label: 'Recipient(s)', multiple: true,
      'with-clear': true, placeholder: 'Users whose email address is configured'}),
    mailto: input('mailto', 'Additional Recipient(s)', {placeholder: 'user@example.com, ...'}),
    comment: input('comment', 'Comment'),
    author: input('author', 'Author', {placeholder: 'respaldo'}),
  };
  const modeChanged = () => {
    f.port.placeholder = `Default (${SMTP_PORTS[f.mode.value] ?? 465})`;
  };
  const authChanged = () => {
    const auth = f.authentication.checked;
    f.username.disabled = !auth;
    f.password.disabled = !auth;
  };
  f.mode.addEventListener('change', modeChanged);
  f.authentication.addEventListener('change', authChanged);
  modeChanged();
  const values = () => ({
    name: text(f.name), enable: f.enable.checked, server: text(f.server), mode: f.mode.value,
    port: text(f.port), authentication: f.authentication.checked, username: text(f.username),
    password: String(f.password.value ?? ''), fromAddress: text(f.fromAddress),
    mailtoUser: [f.mailtoUser.value ?? []].flat().filter(Boolean), mailto: text(f.mailto),
    comment: text(f.comment), author: text(f.author),
  });
  const dialog = editorDialog('smtp', 'SMTP', name, [
    h('div', {class: 'columns'}, f.name, f.enable),
    h('div', {class: 'columns'},
      h('div', {class: 'column'}, f.server, f.mode, f.port),
      h('div', {class: 'column'}, f.authentication, f.username, f.password)),
    f.fromAddress, f.mailtoUser, f.mailto, f.comment, f.author,
  ], () => smtpParams(values(), isCreate));
  return run(dialog, 'smtp', name, async (entry) => {
    const users = await api.get('/access/users');
    f.mailtoUser.replaceChildren(...(users ?? []).map((u) => h('wa-option', {value: u.userid},
      u.email ? `${u.userid} (${u.email})` : u.userid)));
    const v = smtpValues(entry);
    for (const key of ['server', 'mode', 'port', 'username', 'mailto', 'comment', 'author']) f[key].value = v[key];
    f.fromAddress.value = v.fromAddress;
    f.mailtoUser.value = v.mailtoUser;
    f.enable.checked = v.enable;
    f.authentication.checked = v.authentication;
    modeChanged();
    authChanged();
  });
}

/** Rows of name and value inputs with "Add" and a remove button per row (headers, secrets). */
class KeyValueList {
  constructor(label, addLabel, masked) {
    this.label = label;
    this.masked = masked;
    this.rows = h('div', {class: 'kv-rows'});
    this.element = h('fieldset', {class: 'kv-list'}, h('legend', {}, label), this.rows,
      h('wa-button', {size: 's', appearance: 'outlined', class: 'kv-add', onclick: () => this.add()}, addLabel));
  }

  add(name = '', value = '', placeholder = '') {
    const n = this.rows.children.length + 1;
    const row = h('div', {class: 'kv-row'},
      input(null, `${this.label} ${n}: name`, {value: name, size: 's', class: 'kv-name', placeholder: 'Key'}),
      input(null, `${this.label} ${n}: value`, {value, size: 's', class: 'kv-value',
        type: this.masked ? 'password' : 'text', placeholder: placeholder || 'Value', autocomplete: 'off'}),
      h('wa-button', {size: 's', appearance: 'plain', variant: 'danger', class: 'kv-remove',
        onclick: () => row.remove()}, 'Remove'));
    this.rows.append(row);
    return row;
  }

  get value() {
    return [...this.rows.children].map((row) => ({
      name: text(row.querySelector('.kv-name')),
      value: String(row.querySelector('.kv-value').value ?? ''),
    }));
  }
}

/** The webhook editor; `name` edits that target. Resolves true once saved. */
export async function openWebhookEditor(name) {
  const isCreate = !name;
  let oldSecrets = [];
  const f = {
    name: nameField(isCreate, name),
    enable: h('wa-checkbox', {name: 'enable', props: {checked: true}}, 'Enable'),
    method: select('method', 'Method', [['post', 'POST'], ['put', 'PUT'], ['get', 'GET']], 'post'),
    url: input('url', 'URL', {required: true, placeholder: 'https://example.com/hook', type: 'url'}),
    body: h('wa-textarea', {name: 'body', label: 'Body', rows: '5', class: 'monospace'}),
    comment: input('comment', 'Comment'),
  };
  const headers = new KeyValueList('Header', 'Add Header', false);
  const secrets = new KeyValueList('Secret', 'Add Secret', true);
  const values = () => ({
    name: text(f.name), enable: f.enable.checked, method: f.method.value, url: text(f.url),
    headers: headers.value, body: String(f.body.value ?? ''), secrets: secrets.value,
    comment: text(f.comment),
  });
  const dialog = editorDialog('webhook', 'Webhook', name, [
    h('div', {class: 'columns'}, f.name, f.enable),
    h('div', {class: 'method-url'}, f.method, f.url),
    headers.element, f.body, secrets.element, f.comment,
  ], () => webhookParams(values(), isCreate, oldSecrets));
  return run(dialog, 'webhook', name, async (entry) => {
    const v = webhookValues(entry);
    for (const key of ['method', 'url', 'body', 'comment']) f[key].value = v[key];
    f.enable.checked = v.enable;
    for (const row of v.headers) headers.add(row.name, row.value);
    for (const row of v.secrets) secrets.add(row.name, '', 'Unchanged');
    oldSecrets = v.secrets.map((row) => row.name);
  });
}
