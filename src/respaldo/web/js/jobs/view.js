// Datacenter → Backup (Proxmox's dc/Backup.js): the backup jobs (GET /cluster/backup) with
// Enabled, ID, Schedule, Next Run, Storage, Comment, Retention, Selection (one node: no Node
// column, the job detail names it); Add, Remove, Edit, Job Detail, Run now (POST
// /nodes/{node}/vzdump with the job's options on each online node, or the job's node),
// "Show: Guests Without Backup Job" (when there are some) and the Schedule Simulator.

import {api, seg, session} from '../api.js';
import {on} from '../bus.js';
import {confirmDialog, errorBox, errorText, loadPanel, messageDialog} from '../dialogs.js';
import {DataGrid} from '../grid.js';
import {resources} from '../resources.js';
import {esc, h} from '../util.js';
import {addTab} from '../views/registry.js';
import {openGuestsWithoutJob, openJobDetail, openScheduleSimulator} from './detail.js';
import {openBackupJobEditor} from './edit.js';
import {nextRunText, retentionText, runNowParams, selectionText} from './model.js';

const COLUMNS = [
  {id: 'enabled', header: 'Enabled', width: '5.5rem', value: (r) => Number(r.enabled ?? 1),
    html: (r) => (Number(r.enabled ?? 1)
      ? '<span class="icon check" aria-hidden="true"></span><span class="enabled-text">Yes</span>'
      : '<span class="icon off" aria-hidden="true"></span><span class="enabled-text">No</span>')},
  {id: 'id', header: 'ID', width: '10rem', value: (r) => r.id},
  {id: 'schedule', header: 'Schedule', width: '9rem', value: (r) => r.schedule ?? ''},
  {id: 'next-run', header: 'Next Run', width: '11.5rem', value: (r) => r['next-run'] ?? 0,
    html: (r) => esc(nextRunText(r['next-run']))},
  {id: 'storage', header: 'Storage', width: '6.5rem', value: (r) => r.storage ?? ''},
  {id: 'comment', header: 'Comment', value: (r) => r.comment ?? ''},
  {id: 'retention', header: 'Retention', value: (r) => retentionText(r)},
  {id: 'selection', header: 'Selection', value: (r) => selectionText(r)},
];

class BackupJobsView {
  constructor(ctx) {
    this.ctx = ctx;
    this.error = errorBox();
    this.notBackedUp = [];
    this.grid = new DataGrid({
      label: 'Backup jobs',
      columns: COLUMNS,
      rowId: (row) => row.id,
      sort: {column: 'id', descending: false},
      emptyText: 'No backup jobs',
      onSelect: () => this.updateButtons(),
      onActivate: () => this.edit(),
    });
    const button = (cls, label, onclick, attrs = {}) => h('wa-button', {
      size: 's', appearance: 'outlined', class: cls, onclick, ...attrs}, label);
    this.buttons = {
      add: button('add', 'Add', () => this.add(), {variant: 'brand'}),
      remove: button('remove', 'Remove', () => this.remove(), {variant: 'danger'}),
      edit: button('edit', 'Edit', () => this.edit()),
      detail: button('job-detail', 'Job Detail', () => this.detail(), {
        title: 'Show job details and which guests and volumes are affected by the backup job'}),
      run: button('run-now', 'Run now', () => this.runNow()),
    };
    this.notBackedButton = button('not-backed-up', 'Show: Guests Without Backup Job',
      () => openGuestsWithoutJob(this.notBackedUp), {
        hidden: true, variant: 'warning', title: 'Some guests are not covered by any backup job.'});
    const simulator = button('schedule-simulator', 'Schedule Simulator',
      () => openScheduleSimulator(this.grid.selected?.schedule));
    this.element = h('div', {class: 'jobs-view', dataset: {state: 'loading'}},
      h('div', {class: 'list-toolbar'},
        h('div', {class: 'toolbar', role: 'group', 'aria-label': 'Backup job actions'},
          Object.values(this.buttons)),
        h('span', {class: 'spacer'}),
        h('div', {class: 'toolbar', role: 'group', 'aria-label': 'Backup job information'},
          this.notBackedButton, simulator)),
      this.error.element,
      this.grid.element);
    // a finished backup changes nothing here, but a job's "pending" next run moves on
    this.off = on('task-done', (task) => {
      if (task.type === 'vzdump') this.load();
    });
    this.updateButtons();
    this.load();
  }

  async load() {
    await loadPanel(this.element, this.error, async () => {
      const [jobs, missing] = await Promise.all([
        api.get('/cluster/backup'),
        api.get('/cluster/backup-info/not-backed-up'),
      ]);
      this.grid.setRows(jobs ?? []);
      this.notBackedUp = missing ?? [];
      this.notBackedButton.hidden = this.notBackedUp.length === 0;
    });
    this.updateButtons();
  }

  updateButtons() {
    const row = this.grid.selected;
    const modify = session.can('dc', 'Sys.Modify');
    this.buttons.add.disabled = !modify;
    this.buttons.remove.disabled = !row || !modify;
    this.buttons.edit.disabled = !row || !modify;
    this.buttons.detail.disabled = !row;
    this.buttons.run.disabled = !row || !session.can('vms', 'VM.Backup');
  }

  async add() {
    if (await openBackupJobEditor(this.ctx)) await this.load();
  }

  async edit() {
    const row = this.grid.selected;
    if (!row || this.buttons.edit.disabled) return;
    if (await openBackupJobEditor(this.ctx, row.id)) await this.load();
  }

  detail() {
    openJobDetail(this.grid.selected);
  }

  async remove() {
    const row = this.grid.selected;
    if (!(await confirmDialog(`Are you sure you want to remove entry '${row.id}'?`, {label: 'Remove backup job'}))) {
      return;
    }
    this.error.clear();
    try {
      await api.del(`/cluster/backup/${seg(row.id)}`);
    } catch (err) {
      this.error.show(err); // (a reload would clear it)
      return;
    }
    await this.load();
  }

  /** The nodes a run starts on: the job's node if online, else every online node. */
  runNodes(job) {
    const nodes = resources.rows.filter((r) => r.type === 'node');
    const online = nodes.filter((r) => r.status === 'online').map((r) => r.node);
    if (job.node) {
      if (!online.includes(job.node)) throw new Error(`Node '${job.node}' from backup job isn't online!`);
      return {targets: [job.node], errors: []};
    }
    const offline = nodes.filter((r) => r.status !== 'online').map((r) => `${r.node}: Node is offline`);
    return {targets: online, errors: offline};
  }

  async runNow() {
    const job = this.grid.selected;
    if (!(await confirmDialog('Start the selected backup job now?'))) return;
    let plan;
    try {
      plan = this.runNodes(job);
    } catch (err) {
      await messageDialog(err.message);
      return;
    }
    const params = runNowParams(job);
    const errors = [...plan.errors];
    await Promise.all(plan.targets.map(async (node) => {
      try {
        await api.post(`/nodes/${seg(node)}/vzdump`, params);
      } catch (err) {
        errors.push(`${node}: ${errorText(err)}`);
      }
    }));
    // the started tasks show in the task list, as in Proxmox's GUI
    if (errors.length) await messageDialog(`Some errors have been encountered:\n${errors.join('\n')}`);
  }

  destroy() {
    this.off();
  }
}

addTab('root', {id: 'backup', label: 'Backup', render: (panel, ctx) => {
  const view = new BackupJobsView(ctx);
  panel.append(view.element);
  return view;
}});
