// Notification targets and matchers as Proxmox's GUI edits them (proxmox-widget-toolkit
// panel/SmtpEditPanel.js, panel/WebhookEditPanel.js, window/NotificationMatcherEdit.js): the
// editors' values from GET /cluster/notifications/{endpoints/<type>|matchers}/{name} and the
// parameters of POST (new) or PUT (edit) from them. Pure functions: the browser tests call
// them directly.

import {EditParams} from '../forms.js';

export const SEVERITIES = [
  ['info', 'Info'], ['notice', 'Notice'], ['warning', 'Warning'], ['error', 'Error'],
  ['unknown', 'Unknown'],
];
export const MATCH_MODES = [
  ['all', 'All rules match'],
  ['any', 'Any rule matches'],
  ['notall', 'At least one rule does not match'],
  ['notany', 'No rule matches'],
];
/** The SMTP port each encryption mode uses when none is given (proxmox-notify). */
export const SMTP_PORTS = {insecure: 25, starttls: 587, tls: 465};

/** UTF-8 text as base64 (Proxmox.Utils.utf8ToBase64). */
export function utf8ToBase64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The inverse of utf8ToBase64. */
export function base64ToUtf8(text) {
  const binary = atob(text);
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function asList(value) {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : String(value).split(/[,;\s]+/).filter(Boolean);
}

// -- SMTP -------------------------------------------------------------------------------------

export function smtpValues(entry) {
  const e = entry ?? {};
  return {
    name: e.name ?? '', enable: !Number(e.disable ?? 0), server: e.server ?? '',
    mode: e.mode ?? 'tls', port: e.port === undefined ? '' : String(e.port),
    authentication: entry ? Boolean(e.username) : true, username: e.username ?? '', password: '',
    fromAddress: e['from-address'] ?? '', mailtoUser: asList(e['mailto-user']),
    mailto: asList(e.mailto).join(', '), comment: e.comment ?? '', author: e.author ?? '',
  };
}

/**
 * POST/PUT /cluster/notifications/endpoints/smtp[/{name}]. Throws Error when neither
 * recipients nor recipient users are given ("Either mailto or mailto-user must be set").
 */
export function smtpParams(values, isCreate) {
  const mailto = asList(values.mailto);
  if (!mailto.length && !values.mailtoUser.length) throw new Error('Either mailto or mailto-user must be set');
  const p = new EditParams(isCreate);
  if (isCreate) p.params.name = values.name.trim();
  p.enable(values.enable);
  p.params.server = values.server.trim();
  p.params.mode = values.mode;
  p.set('port', values.port);
  if (values.authentication) {
    p.params.username = values.username.trim();
    if (values.password) p.params.password = values.password;
  } else {
    p.remove('username', 'password');
  }
  p.params['from-address'] = values.fromAddress.trim();
  p.set('mailto', mailto.join(','));
  p.set('mailto-user', values.mailtoUser.join(','));
  p.set('comment', values.comment);
  p.set('author', values.author);
  return p.result();
}

// -- webhook ----------------------------------------------------------------------------------

/** "name=X,value=<base64>" entries as [{name, value}] (a secret's value is never returned). */
function pairs(entries, decode) {
  return asList(entries).map((entry) => {
    if (typeof entry === 'object') return {name: entry.name, value: ''};
    const [, name = '', value = ''] = /^name=([^,]*)(?:,value=(.*))?$/.exec(entry) ?? [];
    return {name, value: decode && value ? base64ToUtf8(value) : ''};
  });
}

export function webhookValues(entry) {
  const e = entry ?? {};
  return {
    name: e.name ?? '', enable: !Number(e.disable ?? 0), method: e.method ?? 'post',
    url: e.url ?? '', headers: pairs(e.header, true), body: e.body ? base64ToUtf8(e.body) : '',
    secrets: pairs(e.secret, false), comment: e.comment ?? '',
  };
}

function printPairs(rows) {
  return rows.map((row) => `name=${row.name.trim()},value=${utf8ToBase64(row.value)}`).join(',');
}

/**
 * POST/PUT /cluster/notifications/endpoints/webhook[/{name}]. Header values and the body are
 * sent base64-encoded. The server never returns a secret's value: secrets left as they were
 * (the same names, no value typed) are not sent and stay; changing them means typing every
 * value again (Error otherwise).
 */
export function webhookParams(values, isCreate, oldSecretNames = []) {
  const p = new EditParams(isCreate);
  if (isCreate) p.params.name = values.name.trim();
  p.enable(values.enable);
  p.params.method = values.method;
  p.params.url = values.url.trim();
  const headers = values.headers.filter((row) => row.name.trim());
  p.set('header', printPairs(headers));
  p.set('body', values.body ? utf8ToBase64(values.body) : '');
  const secrets = values.secrets.filter((row) => row.name.trim());
  const names = secrets.map((row) => row.name.trim());
  const unchanged = !isCreate && names.length === oldSecretNames.length
    && names.every((name, i) => name === oldSecretNames[i]) && secrets.every((row) => !row.value);
  if (!unchanged) {
    const missing = secrets.find((row) => !row.value);
    if (missing) throw new Error(`Secret '${missing.name}': type its value (a secret is never shown, so changing the secrets sends all of them)`);
    p.set('secret', printPairs(secrets));
  }
  p.set('comment', values.comment);
  return p.result();
}

// -- matchers ---------------------------------------------------------------------------------

/** "exact:job-id=nightly" as {type, field, value}. */
export function parseFieldRule(rule) {
  const match = /^(?:(regex|exact):)?([A-Za-z0-9_][A-Za-z0-9._-]*)=(.*)$/.exec(rule);
  if (!match) return {type: 'exact', field: '', value: rule};
  return {type: match[1] ?? 'exact', field: match[2], value: match[3]};
}

export function matcherValues(entry) {
  const e = entry ?? {};
  const invert = Boolean(Number(e['invert-match'] ?? 0));
  const mode = e.mode ?? 'all';
  const severities = asList(e['match-severity']);
  return {
    name: e.name ?? '', enable: !Number(e.disable ?? 0), comment: e.comment ?? '',
    mode: invert ? `not${mode}` : mode,
    matchSeverity: severities.length > 0,
    severities: severities.length ? severities : ['info', 'notice', 'warning', 'error', 'unknown'],
    fields: asList(e['match-field']).map(parseFieldRule),
    targets: asList(e.target),
  };
}

/**
 * POST/PUT /cluster/notifications/matchers[/{name}]: the match mode as mode + invert-match,
 * one severity rule, the field rules, the targets (at least one: Error otherwise).
 */
export function matcherParams(values, isCreate) {
  if (!values.targets.length) throw new Error('Targets to notify: no target selected');
  const p = new EditParams(isCreate);
  if (isCreate) p.params.name = values.name.trim();
  p.enable(values.enable);
  const invert = values.mode.startsWith('not');
  p.params.mode = invert ? values.mode.slice(3) : values.mode;
  p.set('invert-match', invert ? 1 : '');
  p.set('match-severity', values.matchSeverity ? values.severities.join(',') : '');
  const rules = values.fields.filter((rule) => rule.field.trim())
    .map((rule) => `${rule.type}:${rule.field.trim()}=${rule.value.trim()}`);
  p.set('match-field', rules.join(','));
  p.params.target = values.targets.join(',');
  p.set('comment', values.comment);
  return p.result();
}
