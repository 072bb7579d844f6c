// The logged-in page: header (product, node, user, Logout), the resource tree on the left, the
// selected resource's view in the middle and the task list at the bottom. The location hash
// keeps the selection ("#qemu/100:backup"), so a reload or a link opens the same view.

import {session} from './api.js';
import {on} from './bus.js';
import {resources} from './resources.js';
import {TaskList} from './tasks.js';
import {ROOT_ID, ResourceTree} from './tree.js';
import {h} from './util.js';
import {typeOf, viewFor} from './views/registry.js';

class ContentPanel {
  constructor(workspace) {
    this.workspace = workspace;
    this.id = null;
    this.parts = [];
    this.element = h('main', {class: 'content', id: 'content'});
    this.unsubscribe = on('resources', () => this.refresh());
  }

  context() {
    return {
      node: this.workspace.node,
      id: this.id,
      resource: resources.byId(this.id),
      navigate: (id, tab) => this.workspace.navigate(id, tab),
    };
  }

  show(id, tab) {
    if (id === this.id) {
      if (tab && this.tabs && this.tabs.active !== tab) this.tabs.active = tab;
      return;
    }
    this.clear();
    this.id = id;
    const view = viewFor(typeOf(id));
    const ctx = this.context();
    if (!view || (id !== ROOT_ID && !ctx.resource)) {
      this.element.replaceChildren(h('p', {class: 'empty-view'}, `No such resource: ${id}`));
      return;
    }
    this.title = h('h1', {class: 'view-title'}, view.title(ctx));
    const header = h('div', {class: 'view-header'}, this.title);
    if (view.toolbar) {
      const toolbar = view.toolbar(ctx);
      this.parts.push(toolbar);
      header.append(toolbar.element);
    }
    this.view = view;
    this.rendered = new Set();
    const active = view.tabs.some((t) => t.id === tab) ? tab : view.tabs[0]?.id;
    this.tabs = h('wa-tab-group', {placement: 'start', class: 'view-tabs', active,
      'onwa-tab-show': (event) => {
        if (event.target !== this.tabs) return;
        this.renderTab(event.detail.name);
        this.workspace.remember(this.id, event.detail.name);
      }});
    for (const t of view.tabs) {
      this.tabs.append(
        h('wa-tab', {slot: 'nav', panel: t.id}, t.label),
        h('wa-tab-panel', {name: t.id}),
      );
    }
    this.element.replaceChildren(header, this.tabs);
    this.renderTab(active);
    this.workspace.remember(id, active);
  }

  renderTab(name) {
    if (!name || this.rendered.has(name)) return;
    const tab = this.view.tabs.find((t) => t.id === name);
    const panel = this.tabs.querySelector(`wa-tab-panel[name="${name}"]`);
    if (!tab || !panel) return;
    this.rendered.add(name);
    const part = tab.render(panel, this.context());
    if (part) this.parts.push(part);
  }

  refresh() {
    if (!this.id || !this.view) return;
    const ctx = this.context();
    if (this.id !== ROOT_ID && !ctx.resource) {
      this.workspace.navigate(ROOT_ID);
      return;
    }
    this.title.textContent = this.view.title(ctx);
    for (const part of this.parts) part.refresh?.(ctx.resource);
  }

  clear() {
    for (const part of this.parts) part.destroy?.();
    this.parts = [];
    this.view = null;
    this.tabs = null;
  }
}

export class Workspace {
  constructor(node) {
    this.node = node;
    this.tree = new ResourceTree((id) => this.navigate(id));
    this.content = new ContentPanel(this);
    this.tasks = new TaskList(node);
    const header = h('header', {class: 'topbar'},
      h('span', {class: 'brand'}, 'respaldo'),
      h('span', {class: 'node-label'}, 'Node: ', h('strong', {class: 'node-name'}, node)),
      h('span', {class: 'spacer'}),
      h('span', {class: 'user-label'}, 'User: ', h('strong', {class: 'user-name'}, session.username)),
      h('wa-button', {size: 's', appearance: 'outlined', class: 'logout',
        onclick: () => session.logout()}, 'Logout'));
    this.element = h('div', {class: 'workspace'},
      header, this.tree.element, this.content.element, this.tasks.element);
    this.onHash = () => this.fromHash();
    window.addEventListener('hashchange', this.onHash);
  }

  start() {
    resources.start().then(() => this.fromHash());
    this.tasks.start();
  }

  fromHash() {
    const text = decodeURIComponent(location.hash.slice(1));
    const [id, tab] = text ? text.split(':') : [ROOT_ID];
    this.navigate(id || ROOT_ID, tab);
  }

  /** Show a resource (and tab): the tree's selection, the content and the hash follow. */
  navigate(id, tab) {
    this.tree.select(id);
    this.content.show(id, tab);
  }

  remember(id, tab) {
    const hash = `#${id}${tab ? `:${tab}` : ''}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  destroy() {
    window.removeEventListener('hashchange', this.onHash);
    resources.stop();
    this.tasks.stop();
    this.tree.destroy();
    this.content.clear();
    this.content.unsubscribe();
  }
}
