// Tasks: their descriptions, the task viewer (live log, status, Stop), waiting for a task, and
// the task list at the bottom of the page (running and recent tasks, GET /nodes/{n}/tasks).

import {api, seg} from './api.js';
import {emit} from './bus.js';
import {FormDialog, errorBox} from './dialogs.js';
import {DataGrid} from './grid.js';
import {esc, formatDuration, formatTime, h} from './util.js';

const POLL_MS = 1000;
const LIST_POLL_MS = 3000;
const LOG_PAGE = 1000;

// task type -> [what the id names, what the task does] (Proxmox's task descriptions)
const TASK_TYPES = {
  vzdump: ['VM/CT', 'Backup'],
  qmrestore: ['VM', 'Restore'],
  qmcreate: ['VM', 'Create'],
  qmstart: ['VM', 'Start'],
  qmstop: ['VM', 'Stop'],
  qmshutdown: ['VM', 'Shutdown'],
  qmreboot: ['VM', 'Reboot'],
  qmreset: ['VM', 'Reset'],
  qmpause: ['VM', 'Pause'],
  qmsuspend: ['VM', 'Hibernate'],
  qmresume: ['VM', 'Resume'],
  qmdestroy: ['VM', 'Destroy'],
  qmconfig: ['VM', 'Configure'],
  qmsnapshot: ['VM', 'Snapshot'],
  qmrollback: ['VM', 'Rollback'],
  qmdelsnapshot: ['VM', 'Delete Snapshot'],
  imgdel: ['', 'Erase data'],
  prunebackups: ['', 'Prune Backups'],
};

/** Parse a UPID "UPID:node:pid:pstart:starttime:type:id:user:". */
export function parseUpid(upid) {
  const parts = String(upid).split(':');
  if (parts.length < 9 || parts[0] !== 'UPID') return null;
  return {
    node: parts[1], pid: parseInt(parts[2], 16), starttime: parseInt(parts[4], 16),
    type: parts[5], id: parts[6], user: parts[7],
  };
}

/** "VM/CT 100 - Backup", "Backup Job", "Erase data 100@local". */
export function taskDescription(type, id) {
  const known = TASK_TYPES[type];
  if (!known) return id ? `${type} ${id}` : type;
  const [what, action] = known;
  if (!id) return type === 'vzdump' ? 'Backup Job' : action;
  return what ? `${what} ${id} - ${action}` : `${action} ${id}`;
}

/** A task's ending in words: "OK", "running", or the exit status (an error's text). */
export function statusText(status) {
  if (!status || status === 'RUNNING' || status === 'running') return 'running';
  return status;
}

function statusClass(exitstatus) {
  if (!exitstatus || exitstatus === 'RUNNING') return 'running';
  if (exitstatus === 'OK') return 'ok';
  if (exitstatus.startsWith('WARNINGS')) return 'warning';
  return 'error';
}

/** Resolves with the task's final status object once it has stopped. */
export async function watchTask(node, upid) {
  for (;;) {
    const status = await api.get(`/nodes/${seg(node)}/tasks/${seg(upid)}/status`);
    if (status.status === 'stopped') {
      emit('task-done', status);
      return status;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The task viewer: its output growing line by line, its status, a Stop button. */
export class TaskViewer {
  constructor(node, upid) {
    this.node = node;
    this.upid = upid;
    const info = parseUpid(upid) ?? {};
    this.description = taskDescription(info.type, info.id);
    this.lines = 0;
    this.status = null;
    this.stopped = false;
    this.log = h('pre', {class: 'tasklog', role: 'log', tabindex: '0', 'aria-label': 'Task output'});
    this.state = h('p', {class: 'task-state', 'aria-live': 'polite'}, 'Status: running');
    this.statusTable = h('table', {class: 'kv', 'aria-label': 'Task status'});
    this.error = errorBox();
    this.stopButton = h('wa-button', {
      slot: 'footer', variant: 'danger', appearance: 'outlined', class: 'stop', disabled: true,
      onclick: () => this.stop(),
    }, 'Stop');
    const tabs = h('wa-tab-group', {class: 'task-tabs', active: 'output'},
      h('wa-tab', {slot: 'nav', panel: 'output', active: true}, 'Output'),
      h('wa-tab', {slot: 'nav', panel: 'status'}, 'Status'),
      // shown at once: the group marks its active panel only once it has laid itself out
      h('wa-tab-panel', {name: 'output', active: true}, this.state, this.log),
      h('wa-tab-panel', {name: 'status'}, this.statusTable));
    this.dialog = new FormDialog({
      label: `Task viewer: ${this.description}`,
      content: [this.error.element, tabs],
      width: '52rem',
      className: 'task-viewer',
      extraButtons: [this.stopButton],
    });
  }

  show() {
    const closed = this.dialog.show();
    this.poll();
    closed.then(() => {
      this.stopped = true;
    });
    return closed;
  }

  async poll() {
    while (!this.stopped) {
      try {
        await this.update();
        this.error.clear();
      } catch (err) {
        this.error.show(err);
      }
      if (this.status?.status === 'stopped') break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async update() {
    const base = `/nodes/${seg(this.node)}/tasks/${seg(this.upid)}`;
    const status = await api.get(`${base}/status`);
    await this.readLog(base);
    const wasRunning = this.status === null || this.status.status === 'running';
    this.status = status;
    this.showStatus();
    if (status.status === 'stopped' && wasRunning) emit('task-done', status);
  }

  async readLog(base) {
    for (;;) {
      const {data, total} = await api.get(`${base}/log`, {start: this.lines, limit: LOG_PAGE}, {
        withTotal: true,
      });
      // an empty log reads as one line "no content": wait for the real first line
      if (!total || !data?.length || (total === 1 && data[0].t === 'no content')) return;
      const fresh = data.filter((line) => line.n > this.lines);
      if (!fresh.length) return;
      const atEnd = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 4;
      this.log.append(fresh.map((line) => `${line.t}\n`).join(''));
      this.lines = fresh[fresh.length - 1].n;
      if (atEnd) this.log.scrollTop = this.log.scrollHeight;
      if (this.lines >= total) return;
    }
  }

  showStatus() {
    const s = this.status;
    const running = s.status === 'running';
    this.stopButton.disabled = !running;
    const ending = running ? 'running' : s.exitstatus;
    this.state.className = `task-state ${statusClass(running ? 'RUNNING' : s.exitstatus)}`;
    this.state.textContent = running ? 'Status: running'
      : (s.exitstatus === 'OK' ? 'Status: stopped: OK' : `Status: stopped: ${s.exitstatus}`);
    const now = Date.now() / 1000;
    const rows = [
      ['Status', running ? 'running' : `stopped: ${ending}`],
      ['Task type', s.type],
      ['User name', s.user],
      ['Node', s.node],
      ['Process ID', s.pid],
      ['Start Time', formatTime(s.starttime)],
      ['Duration', running || s.endtime ? formatDuration((s.endtime ?? now) - s.starttime) : ''],
      ['Unique task ID', s.upid],
    ];
    this.statusTable.innerHTML = rows
      .map(([key, value]) => `<tr><th scope="row">${esc(key)}</th><td>${esc(value)}</td></tr>`)
      .join('');
  }

  async stop() {
    try {
      await api.del(`/nodes/${seg(this.node)}/tasks/${seg(this.upid)}`);
    } catch (err) {
      this.error.show(err);
    }
  }
}

/** Open the task viewer of a task. */
export function openTaskViewer(node, upid) {
  return new TaskViewer(node, upid).show();
}

/** The task list at the bottom: running tasks first, then the most recent. */
export class TaskList {
  constructor(node) {
    this.node = node;
    this.timer = null;
    this.running = new Set();
    this.error = errorBox();
    this.grid = new DataGrid({
      label: 'Tasks',
      emptyText: 'No tasks',
      rowId: (row) => row.upid,
      onActivate: (row) => openTaskViewer(this.node, row.upid),
      columns: [
        {id: 'starttime', header: 'Start Time', width: '11rem', value: (r) => r.starttime,
          html: (r) => esc(formatTime(r.starttime))},
        {id: 'endtime', header: 'End Time', width: '11rem', value: (r) => r.endtime ?? '',
          html: (r) => esc(formatTime(r.endtime))},
        {id: 'node', header: 'Node', width: '7rem', value: (r) => r.node},
        {id: 'user', header: 'User name', width: '9rem', value: (r) => r.user},
        {id: 'description', header: 'Description', value: (r) => taskDescription(r.type, r.id)},
        {id: 'status', header: 'Status', width: '16rem', value: (r) => statusText(r.status),
          html: (r) => `<span class="task-status ${statusClass(r.status)}">${esc(statusText(r.status))}</span>`},
      ],
    });
    this.element = h('section', {class: 'tasklist', 'aria-label': 'Tasks'},
      h('h2', {class: 'panel-title'}, 'Tasks'), this.error.element, this.grid.element);
  }

  async refresh() {
    try {
      const rows = await api.get(`/nodes/${seg(this.node)}/tasks`, {source: 'all', limit: 50});
      rows.sort((a, b) => (isRunning(b) - isRunning(a)) || (b.starttime - a.starttime));
      for (const row of rows) {
        if (this.running.has(row.upid) && !isRunning(row)) emit('task-done', {...row, status: 'stopped', exitstatus: row.status});
      }
      this.running = new Set(rows.filter(isRunning).map((r) => r.upid));
      this.grid.setRows(rows);
      this.error.clear();
    } catch (err) {
      this.error.show(err);
    }
  }

  start() {
    this.stop();
    this.refresh();
    this.timer = setInterval(() => {
      if (!document.hidden) this.refresh();
    }, LIST_POLL_MS);
  }

  stop() {
    clearInterval(this.timer);
  }
}

function isRunning(row) {
  return !row.endtime && (!row.status || row.status === 'RUNNING') ? 1 : 0;
}
