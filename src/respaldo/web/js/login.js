// The login form (Proxmox's "Login" window): user name, password, realm (GET /access/domains).

import {api, session} from './api.js';
import {errorBox} from './dialogs.js';
import {fieldText, h} from './util.js';

const FALLBACK_REALMS = [
  {realm: 'pam', comment: 'Linux PAM standard authentication'},
  {realm: 'pve', comment: 'Proxmox VE authentication server'},
];

export class LoginView {
  constructor() {
    this.error = errorBox();
    this.user = h('wa-input', {name: 'username', label: 'User name', required: true,
      autocomplete: 'username', autofocus: true});
    this.password = h('wa-input', {name: 'password', label: 'Password', type: 'password',
      required: true, autocomplete: 'current-password'});
    this.realm = h('wa-select', {name: 'realm', label: 'Realm', value: 'pam'});
    this.button = h('wa-button', {type: 'submit', variant: 'brand', class: 'login-button'}, 'Login');
    this.form = h('form', {class: 'login-form', novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        this.submit();
      }},
    h('h1', {}, 'respaldo Login'), this.error.element, this.user, this.password, this.realm,
    this.button);
    this.element = h('main', {class: 'login-page'}, this.form);
    this.loadRealms();
  }

  async loadRealms() {
    let realms = FALLBACK_REALMS;
    try {
      realms = await api.get('/access/domains');
    } catch {
      // the form still works with the two built-in realms
    }
    const preferred = realms.find((r) => r.default)?.realm ?? 'pam';
    this.realm.replaceChildren(...realms.map((r) => h('wa-option', {value: r.realm},
      r.comment || r.realm)));
    this.realm.value = preferred;
  }

  async submit() {
    if (!this.form.reportValidity()) return;
    this.error.clear();
    this.button.loading = true;
    try {
      await session.login(fieldText(this.user), this.password.value ?? '', this.realm.value);
    } catch (err) {
      this.error.show(err);
      this.password.value = '';
      this.password.focus();
    } finally {
      this.button.loading = false;
    }
  }
}
