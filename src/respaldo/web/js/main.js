// Start the UI: resume a login kept in the cookie, else show the login form; swap between the
// two on login and logout.

import './components.js';
import {api, session} from './api.js';
import {messageDialog} from './dialogs.js';
import {LoginView} from './login.js';
import {h} from './util.js';
import './views/index.js';
import {Workspace} from './workspace.js';

const app = document.getElementById('app');
let workspace = null;

async function showWorkspace() {
  let node;
  try {
    const nodes = await api.get('/nodes');
    node = nodes[0].node;
  } catch (err) {
    messageDialog(err.message);
    return;
  }
  workspace = new Workspace(node);
  app.replaceChildren(workspace.element);
  workspace.start();
}

function showLogin() {
  workspace?.destroy();
  workspace = null;
  app.replaceChildren(new LoginView().element);
}

session.onChange(() => {
  if (session.loggedIn && !workspace) showWorkspace();
  else if (!session.loggedIn) showLogin();
});

async function boot() {
  let resumed = false;
  try {
    resumed = await session.resume();
  } catch (err) {
    app.replaceChildren(h('p', {role: 'alert'}, `Cannot reach the server: ${err.message}`));
    return;
  } finally {
    app.removeAttribute('aria-busy');
    document.documentElement.classList.remove('wa-cloak');
  }
  if (!resumed) showLogin();
}

boot();
