// The resource tree (Proxmox's "Server View"): Datacenter, the node, its VMs with an icon by
// status and its storages. It is updated in place from the resource store, so the selection
// and the keyboard focus stay where they are.

import {on} from './bus.js';
import {resources} from './resources.js';
import {h} from './util.js';

export const ROOT_ID = 'root';

/** The tree's label for a resource, and the words a screen reader hears for its icon. */
function describe(res) {
  if (res.type === 'qemu') {
    const status = res.lock ? `${res.status}, locked (${res.lock})` : res.status;
    return {text: res.name ? `${res.vmid} (${res.name})` : String(res.vmid), status,
      icon: `vm ${res.status}${res.lock ? ' locked' : ''}`};
  }
  if (res.type === 'storage') {
    return {text: `${res.storage} (${res.node})`, status: res.status, icon: `storage ${res.status}`};
  }
  if (res.type === 'node') return {text: res.node, status: res.status, icon: `node ${res.status}`};
  return {text: res.id, status: '', icon: ''};
}

export class ResourceTree {
  /** @param {(id: string) => void} onSelect */
  constructor(onSelect) {
    this.onSelect = onSelect;
    this.items = new Map();
    this.selectedId = null;
    this.tree = h('wa-tree', {
      selection: 'single',
      class: 'resource-tree',
      'aria-label': 'Resources',
      'onwa-selection-change': (event) => {
        const item = event.detail.selection[0];
        if (item && item.dataset.id !== this.selectedId) {
          this.selectedId = item.dataset.id;
          this.onSelect(item.dataset.id);
        }
      },
    });
    this.root = this.makeItem(ROOT_ID, {text: 'Datacenter', status: '', icon: 'datacenter'});
    this.tree.append(this.root);
    this.element = h('nav', {class: 'tree-panel', 'aria-label': 'Server View'},
      h('h2', {class: 'panel-title'}, 'Server View'), this.tree);
    this.unsubscribe = on('resources', () => this.update());
    this.update();
  }

  makeItem(id, {text, status, icon}) {
    const item = h('wa-tree-item', {expanded: true, dataset: {id}});
    this.fill(item, {text, status, icon});
    this.items.set(id, item);
    return item;
  }

  fill(item, {text, status, icon}) {
    const key = `${text}|${status}|${icon}`;
    if (item.dataset.key === key) return;
    item.dataset.key = key;
    const label = h('span', {class: 'tree-label'},
      h('span', {class: `icon ${icon}`, 'aria-hidden': 'true'}),
      h('span', {class: 'tree-text'}, text),
      status ? h('span', {class: 'sr-only'}, `, ${status}`) : null);
    const old = item.querySelector(':scope > .tree-label');
    if (old) old.replaceWith(label);
    else item.prepend(label);
  }

  /** Make the tree hold the node, then VMs by id, then storages by name. */
  update() {
    const wanted = new Set([ROOT_ID]);
    for (const node of resources.rows.filter((r) => r.type === 'node')) {
      wanted.add(node.id);
      const nodeItem = this.upsert(node, this.root);
      const children = [...resources.vms(), ...resources.storages()]
        .filter((r) => r.node === node.node);
      let previous = null;
      for (const res of children) {
        wanted.add(res.id);
        const item = this.upsert(res, nodeItem);
        const expectedNext = previous ? previous.nextElementSibling : nodeItem.querySelector(':scope > wa-tree-item');
        if (expectedNext !== item) {
          if (previous) previous.after(item);
          else nodeItem.querySelector(':scope > .tree-label').after(item);
        }
        previous = item;
      }
    }
    for (const [id, item] of this.items) {
      if (!wanted.has(id)) {
        item.remove();
        this.items.delete(id);
      }
    }
  }

  upsert(res, parent) {
    let item = this.items.get(res.id);
    if (!item) {
      item = this.makeItem(res.id, describe(res));
      parent.append(item);
      // a tree item without children does not stay expanded: open the parent once it has one
      if (!parent.dataset.opened) {
        parent.dataset.opened = '1';
        parent.expanded = true;
      }
      if (res.id === this.selectedId) item.selected = true;
    } else {
      this.fill(item, describe(res));
    }
    return item;
  }

  /** Select a resource's item without telling onSelect (the caller already knows). */
  select(id) {
    this.selectedId = id;
    for (const [itemId, item] of this.items) item.selected = itemId === id;
  }

  destroy() {
    this.unsubscribe();
  }
}
