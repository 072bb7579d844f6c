// The views of the content panel, one per kind of resource in the tree ('root' for the
// Datacenter, 'node', 'qemu', 'storage'). A view has a title, an optional toolbar and tabs;
// a tab renders itself into its panel the first time it is shown.
//
// A new view or tab is one call, from its own module imported by views/index.js:
//   registerView('root', {title: () => 'Datacenter', tabs: [...]});
//   addTab('root', {id: 'backup', label: 'Backup', render: (panel, ctx) => ...});
//
// A tab's render(panel, ctx) may return {destroy()} (called when the view goes away) and
// {refresh(resource)} (called when the resource store has news of the view's resource).
// ctx = {node, id, resource, navigate(id, tab)}.

const views = new Map();

/**
 * @param {string} type
 * @param {{title: (ctx: object) => string, toolbar?: (ctx: object) => {element: Node,
 *          refresh?: Function, destroy?: Function}, tabs: object[]}} view
 */
export function registerView(type, view) {
  views.set(type, {...view, tabs: [...(view.tabs ?? [])]});
}

/** Add a tab to a view; `before` names the tab it goes in front of (default: at the end). */
export function addTab(type, tab, {before} = {}) {
  const view = views.get(type);
  if (!view) throw new Error(`no view '${type}'`);
  const at = before ? view.tabs.findIndex((t) => t.id === before) : -1;
  if (at < 0) view.tabs.push(tab);
  else view.tabs.splice(at, 0, tab);
}

export function viewFor(type) {
  return views.get(type) ?? null;
}

/** The view type of a resource id: 'root', 'node/pve' -> 'node', 'qemu/100' -> 'qemu'... */
export function typeOf(id) {
  return id === 'root' ? 'root' : id.split('/', 1)[0];
}
