// The cluster's resources (GET /cluster/resources: the node, its VMs and storages), refreshed
// every few seconds and after every task, as Proxmox's GUI keeps its resource store.

import {api} from './api.js';
import {emit, on} from './bus.js';

const INTERVAL_MS = 3000;

class ResourceStore {
  constructor() {
    this.rows = [];
    this.timer = null;
    this.loading = null;
    on('task-done', () => this.refresh());
  }

  get node() {
    return this.rows.find((r) => r.type === 'node')?.node ?? null;
  }

  byId(id) {
    return this.rows.find((r) => r.id === id) ?? null;
  }

  vms() {
    return this.rows.filter((r) => r.type === 'qemu').sort((a, b) => a.vmid - b.vmid);
  }

  storages() {
    return this.rows.filter((r) => r.type === 'storage')
      .sort((a, b) => a.storage.localeCompare(b.storage));
  }

  /** Load now (one request at a time); resolves when the rows are in. */
  refresh() {
    if (!this.loading) {
      this.loading = api.get('/cluster/resources')
        .then((rows) => {
          this.rows = rows ?? [];
          emit('resources', this.rows);
        })
        .finally(() => {
          this.loading = null;
        });
    }
    return this.loading;
  }

  start() {
    this.stop();
    this.timer = setInterval(() => {
      if (!document.hidden) this.refresh().catch(() => {});
    }, INTERVAL_MS);
    return this.refresh();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }
}

export const resources = new ResourceStore();
