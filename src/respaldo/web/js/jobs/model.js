// Backup jobs as Proxmox's GUI reads and writes them (www/manager6 dc/Backup.js and its
// panels): what the grid shows of a job, the editor's values from a job (GET
// /cluster/backup/{id}) and the parameters of POST /cluster/backup or PUT
// /cluster/backup/{id} from them, and the parameters of "Run now" (POST /nodes/{n}/vzdump).
// Pure functions: the browser tests call them directly.

import {EditParams} from '../forms.js';
import {escapeNotesTemplate, formatTime, unescapeNotesTemplate} from '../util.js';

export const KEEP = ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'];

/** "keep-last" as a field's label: "Keep Last". */
export function keepLabel(key) {
  return key.replace('keep-', 'Keep ').replace(/ (.)/, (_, c) => ` ${c.toUpperCase()}`);
}

/** The job properties "Run now" leaves out: they belong to the schedule, not to vzdump. */
const SCHEDULING = ['enabled', 'starttime', 'dow', 'id', 'schedule', 'type', 'node', 'comment',
  'next-run', 'repeat-missed'];
/** Options the API returns as objects and takes as property strings. */
const PROPERTY_STRINGS = ['performance', 'prune-backups', 'fleecing'];

/**
 * An object as a Proxmox property string: "key=value" parts sorted, arrays joined with ';',
 * empty values left out (PVE.Parser.printPropertyString without a default key).
 */
export function printPropertyString(data) {
  return Object.entries(data ?? {})
    .filter(([, value]) => value !== '' && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(';') : value}`)
    .sort()
    .join(',');
}

/** The Selection column (PVE.Utils.render_backup_selection). */
export function selectionText(job) {
  if (job.all) return job.exclude ? `All except ${job.exclude}` : '-- All --';
  if (job.vmid) return String(job.vmid);
  if (job.pool) return `Pool '${job.pool}'`;
  return '-';
}

/** The Retention column: the job's keep-* options, or where they come from without them. */
export function retentionText(job) {
  const keep = job['prune-backups'];
  return keep && Object.keys(keep).length ? printPropertyString(keep) : 'Fallback from storage config';
}

/** The Next Run column (PVE.Utils.render_next_event): '-', 'pending' once past, or the time. */
export function nextRunText(epoch, now = Date.now() / 1000) {
  if (!epoch) return '-';
  if (epoch < now) return 'pending';
  return formatTime(epoch);
}

/** "Include selected VMs" and the other selection modes, from a job's keys. */
export function selectionMode(job) {
  if (job.exclude) return 'exclude';
  if (job.all) return 'all';
  if (job.pool) return 'pool';
  return 'include';
}

export const SELECTION_MODES = [
  ['include', 'Include selected VMs'],
  ['all', 'All'],
  ['exclude', 'Exclude selected VMs'],
  ['pool', 'Pool based'],
];

/** The words of a notification mode as the job detail shows it (dc/BackupJobDetail.js). */
export function notificationText(job) {
  const mode = job['notification-mode'] ?? 'auto';
  if ((mode === 'auto' && job.mailto === undefined) || mode === 'notification-system') {
    return 'Use global notification settings';
  }
  return (job.mailnotification ?? 'always') === 'always' ? 'Always send email' : 'Send email on failure';
}

function vmidList(text) {
  return String(text ?? '').split(/[,;\s]+/).filter(Boolean).map(Number);
}

/**
 * The editor's values of a job (GET /cluster/backup/{id}); the defaults of a new job
 * without one: zstd, snapshot, enabled, notes template {{guestname}}, include selected VMs.
 */
export function jobValues(job) {
  if (!job) {
    return {
      id: '', node: '', storage: '', schedule: '', selMode: 'include', vmids: [], pool: '',
      compress: 'zstd', mode: 'snapshot', enabled: true, comment: '',
      notificationMode: 'notification-system', mailto: '', mailnotification: 'always',
      keepAll: false, keep: {}, notes: '{{guestname}}', bwlimit: '', zstd: '', maxWorkers: '',
      pbsEntriesMax: '', fleecing: false, fleecingStorage: '', repeatMissed: false,
    };
  }
  const selMode = selectionMode(job);
  const prune = job['prune-backups'] ?? {};
  const mode = job['notification-mode'] ?? 'auto';
  const global = (mode === 'auto' && !job.mailto) || mode === 'notification-system';
  const keep = Object.fromEntries(KEEP.filter((key) => prune[key] !== undefined)
    .map((key) => [key, String(prune[key])]));
  return {
    id: job.id,
    node: job.node ?? '',
    storage: job.storage ?? '',
    schedule: job.schedule ?? '',
    selMode,
    vmids: vmidList(selMode === 'exclude' ? job.exclude : selMode === 'include' ? job.vmid : ''),
    pool: job.pool ?? '',
    compress: job.compress === undefined ? '0' : String(job.compress),
    mode: job.mode ?? 'snapshot',
    enabled: Boolean(Number(job.enabled ?? 1)),
    comment: job.comment ?? '',
    notificationMode: global ? 'notification-system' : 'legacy-sendmail',
    mailto: job.mailto ?? '',
    mailnotification: job.mailnotification ?? 'always',
    keepAll: Boolean(Number(prune['keep-all'] ?? 0)),
    keep,
    notes: job['notes-template'] ? unescapeNotesTemplate(job['notes-template']) : '',
    // the API keeps KiB/s; the editor shows MiB/s as Proxmox's bandwidth field does
    bwlimit: job.bwlimit === undefined ? '' : String(job.bwlimit / 1024),
    zstd: job.zstd === undefined ? '' : String(job.zstd),
    maxWorkers: job.performance?.['max-workers'] === undefined ? '' : String(job.performance['max-workers']),
    pbsEntriesMax: job.performance?.['pbs-entries-max'] === undefined ? '' : String(job.performance['pbs-entries-max']),
    fleecing: Boolean(Number(job.fleecing?.enabled ?? 0)),
    fleecingStorage: job.fleecing?.storage ?? '',
    repeatMissed: Boolean(Number(job['repeat-missed'] ?? 0)),
  };
}

function selectionParams(values, p) {
  const vmids = values.vmids.join(',');
  if ((values.selMode === 'include' || values.selMode === 'exclude') && !vmids) {
    const what = values.selMode === 'include' ? 'Include' : 'Exclude';
    throw new Error(`Guests to ${what}: select at least one guest`);
  }
  if (values.selMode === 'include') {
    p.params.vmid = vmids;
  } else if (values.selMode === 'all') {
    p.params.all = 1;
    p.remove('exclude');
  } else if (values.selMode === 'exclude') {
    p.params.all = 1;
    p.params.exclude = vmids;
  } else {
    p.params.pool = values.pool;
  }
}

function retentionParams(values, p) {
  if (values.keepAll) {
    p.set('prune-backups', 'keep-all=1');
    return;
  }
  const keep = {};
  for (const key of KEEP) {
    const number = Number(values.keep[key]);
    if (values.keep[key] !== '' && values.keep[key] !== undefined && number > 0) keep[key] = number;
  }
  p.set('prune-backups', printPropertyString(keep));
}

function advancedParams(values, p) {
  const bwlimit = String(values.bwlimit ?? '').trim();
  p.set('bwlimit', bwlimit === '' ? '' : Math.round(Number(bwlimit) * 1024));
  if (values.compress === 'zstd') p.set('zstd', values.zstd);
  p.set('performance', printPropertyString({
    'max-workers': String(values.maxWorkers ?? '').trim(),
    'pbs-entries-max': String(values.pbsEntriesMax ?? '').trim(),
  }));
  // the fleecing box is always sent, as Proxmox's editor sends it
  p.params.fleecing = printPropertyString(values.fleecing
    ? {enabled: 1, storage: values.fleecingStorage} : {enabled: 0});
  if (p.isCreate) p.params['repeat-missed'] = values.repeatMissed ? 1 : 0;
  else p.set('repeat-missed', values.repeatMissed ? 1 : '');
}

/**
 * The parameters of POST /cluster/backup (isCreate) or PUT /cluster/backup/{id} from the
 * editor's values, as PVE.dc.BackupEdit submits them: emptied fields in `delete` when
 * editing; a new job without an id gets "backup-" and 13 characters of a random UUID.
 * Throws Error when the selection mode needs guests and none is selected.
 */
export function jobParams(values, isCreate) {
  const p = new EditParams(isCreate);
  if (isCreate) p.params.id = String(values.id ?? '').trim() || `backup-${crypto.randomUUID().slice(0, 13)}`;
  p.set('node', values.node);
  p.params.storage = values.storage;
  p.params.schedule = String(values.schedule).trim();
  selectionParams(values, p);
  p.params.compress = values.compress;
  p.params.mode = values.mode;
  p.params.enabled = values.enabled ? 1 : 0;
  p.set('comment', values.comment);
  p.params['notification-mode'] = values.notificationMode;
  if (values.notificationMode === 'legacy-sendmail') {
    p.set('mailto', values.mailto);
    p.set('mailnotification', values.mailnotification);
  }
  retentionParams(values, p);
  p.set('notes-template', values.notes ? escapeNotesTemplate(values.notes) : '');
  advancedParams(values, p);
  return p.result();
}

/**
 * The parameters of POST /nodes/{node}/vzdump for "Run now" (dc/Backup.js run_backup_now):
 * the job without its scheduling properties, `all` as 0/1, its property strings printed.
 */
export function runNowParams(job) {
  const params = {...job};
  for (const key of SCHEDULING) delete params[key];
  params.all = params.all ? 1 : 0;
  for (const key of PROPERTY_STRINGS) {
    if (params[key] && typeof params[key] === 'object') params[key] = printPropertyString(params[key]);
  }
  return params;
}
