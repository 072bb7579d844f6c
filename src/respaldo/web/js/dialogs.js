// Dialogs on Web Awesome's <wa-dialog>: a form dialog (Enter submits, Escape or Cancel
// closes, the API's error shown in the dialog), a confirmation and a message box. Each is
// created when opened and removed from the page when closed.

import {ApiError} from './api.js';
import {h, uid} from './util.js';

/** The text of an error as the user should read it: the API's own words when it answered. */
export function errorText(err) {
  if (err instanceof ApiError) return err.text;
  return err?.message ? String(err.message) : String(err);
}

/** A danger callout showing an error (role=alert, so screen readers hear it). */
export function errorBox() {
  const box = h('wa-callout', {variant: 'danger', class: 'error-box', role: 'alert', hidden: true});
  const text = h('div', {class: 'error-text'});
  box.append(text);
  return {
    element: box,
    show(err) {
      text.textContent = errorText(err);
      box.hidden = false;
    },
    clear() {
      text.textContent = '';
      box.hidden = true;
    },
  };
}

/**
 * Run `work` (a panel's fetch and fill) with `element` marked data-state="loading", then
 * "loaded" whatever happens (the browser tests wait on it): an error shows in `error` (an
 * errorBox), a success clears it. Never throws.
 */
export async function loadPanel(element, error, work) {
  element.dataset.state = 'loading';
  try {
    await work();
    error.clear();
  } catch (err) {
    error.show(err);
  } finally {
    element.dataset.state = 'loaded';
  }
}

/** A dialog around a <form>. `onSubmit(dialog)` may throw: the error shows in the dialog. */
export class FormDialog {
  /**
   * @param {{label: string, content: Node[]|Node, submitLabel?: string, cancelLabel?: string,
   *          width?: string, onSubmit?: (d: FormDialog) => Promise<any>, className?: string,
   *          extraButtons?: Node[]}} options
   */
  constructor(options) {
    this.options = options;
    this.result = undefined;
    this.busy = false;
    const formId = uid('form');
    this.error = errorBox();
    this.form = h('form', {id: formId, class: 'dialog-form', novalidate: true},
      this.error.element, options.content);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.submitButton = options.onSubmit ? h('wa-button', {
      slot: 'footer', type: 'submit', form: formId, variant: 'brand', class: 'submit',
    }, options.submitLabel ?? 'OK') : null;
    const cancel = h('wa-button', {
      slot: 'footer', appearance: 'outlined', 'data-dialog': 'close', class: 'cancel',
    }, options.cancelLabel ?? (options.onSubmit ? 'Cancel' : 'Close'));
    this.dialog = h('wa-dialog', {
      label: options.label,
      class: options.className ?? null,
      style: options.width ? `--width: ${options.width}` : null,
    }, this.form, options.extraButtons ?? [], cancel, this.submitButton);
    this.closed = new Promise((resolve) => {
      this.dialog.addEventListener('wa-after-hide', (event) => {
        if (event.target !== this.dialog) return;
        this.dialog.remove();
        resolve(this.result);
      });
    });
  }

  /** Open it; resolves (to the submit's result, or undefined when cancelled) once closed. */
  show() {
    document.body.append(this.dialog);
    requestAnimationFrame(() => {
      this.dialog.open = true;
    });
    return this.closed;
  }

  close(result) {
    this.result = result;
    this.dialog.open = false;
  }

  async submit() {
    if (this.busy || !this.options.onSubmit) return;
    if (!this.form.reportValidity()) return;
    this.busy = true;
    this.error.clear();
    if (this.submitButton) this.submitButton.loading = true;
    try {
      const result = await this.options.onSubmit(this);
      if (result !== false) this.close(result);
    } catch (err) {
      this.error.show(err);
    } finally {
      this.busy = false;
      if (this.submitButton) this.submitButton.loading = false;
    }
  }
}

/** Ask a yes/no question; resolves true for yes. */
export function confirmDialog(message, {label = 'Confirm', yes = 'Yes', no = 'No'} = {}) {
  const dialog = new FormDialog({
    label,
    content: h('p', {class: 'confirm-text'}, message),
    submitLabel: yes,
    cancelLabel: no,
    className: 'confirm',
    onSubmit: async () => true,
  });
  dialog.submitButton.setAttribute('autofocus', '');
  return dialog.show().then((result) => result === true);
}

/** Show a message (an error by default) until the user closes it. */
export function messageDialog(text, {label = 'Error'} = {}) {
  const dialog = new FormDialog({label, content: h('p', {class: 'message-text'}, text)});
  return dialog.show();
}

/** Fields of a form: wa-input, wa-select, wa-checkbox, wa-textarea by name. */
export function formValues(form) {
  const values = {};
  for (const el of form.querySelectorAll('[name]')) {
    if (el.localName === 'wa-checkbox') values[el.name] = el.checked;
    else values[el.name] = el.value;
  }
  return values;
}
