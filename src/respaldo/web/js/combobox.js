// An editable combo box: a text field whose value may be typed, or picked from a list of
// presets (Proxmox's editable ComboBox, e.g. the CalendarEvent field of a backup job). The
// list opens with ArrowDown (or Alt+ArrowDown) in the field or the toggle button; in it the
// arrow keys, Home and End move, Enter or Space pick, Escape closes it (and only it: the
// dialog around stays open), Tab leaves it.

import {h, uid} from './util.js';

export class ComboField {
  /**
   * @param {{name: string, label: string, presets: [string, string][], required?: boolean,
   *          placeholder?: string, hint?: string, value?: string}} options
   *   presets: [value, description] pairs
   */
  constructor(options) {
    this.options = options;
    this.active = -1;
    const listId = uid('combo-list');
    this.input = h('wa-input', {
      name: options.name, label: options.label, required: options.required ?? false,
      placeholder: options.placeholder ?? 'Editable', hint: options.hint ?? null,
      autocomplete: 'off', value: options.value ?? '', class: 'combo-input',
      onkeydown: (event) => this.onInputKey(event),
    });
    // (the button's name is its slotted text: an aria-label on the host would not reach it)
    this.toggle = h('wa-button', {
      slot: 'end', size: 's', appearance: 'plain', class: 'combo-toggle', type: 'button',
      'aria-haspopup': 'listbox', 'aria-expanded': 'false', 'aria-controls': listId,
      onclick: () => (this.list.hidden ? this.open() : this.close(true)),
    }, h('span', {class: 'combo-caret', 'aria-hidden': 'true'}),
    h('span', {class: 'sr-only'}, `${options.label} presets`));
    this.input.append(this.toggle);
    this.items = options.presets.map(([value, text], index) => h('div', {
      role: 'option', id: `${listId}-${index}`, class: 'combo-option', dataset: {value},
      'aria-selected': 'false',
      onclick: () => this.pick(index),
    }, h('span', {class: 'combo-text'}, text), h('code', {class: 'combo-value'}, value)));
    this.list = h('div', {
      role: 'listbox', id: listId, class: 'combo-list', tabindex: '0', hidden: true,
      'aria-label': `${options.label} presets`,
      onkeydown: (event) => this.onListKey(event),
      onfocusout: (event) => {
        if (!this.element.contains(event.relatedTarget)) this.close(false);
      },
    }, this.items);
    this.element = h('div', {class: 'combo'}, this.input, this.list);
  }

  get value() {
    return String(this.input.value ?? '').trim();
  }

  set value(text) {
    this.input.value = text ?? '';
  }

  open() {
    const current = this.items.findIndex((item) => item.dataset.value === this.value);
    this.list.hidden = false;
    this.toggle.setAttribute('aria-expanded', 'true');
    this.setActive(current >= 0 ? current : 0);
    this.list.focus();
  }

  /** Close the list; refocus the field when the user closed it (not when focus left). */
  close(refocus) {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.toggle.setAttribute('aria-expanded', 'false');
    if (refocus) this.input.focus();
  }

  setActive(index) {
    this.active = Math.max(0, Math.min(this.items.length - 1, index));
    this.items.forEach((item, i) => item.setAttribute('aria-selected', String(i === this.active)));
    const item = this.items[this.active];
    this.list.setAttribute('aria-activedescendant', item.id);
    item.scrollIntoView({block: 'nearest'});
  }

  /** Take a preset's value, tell listeners ('input' and 'change' on the field). */
  pick(index) {
    this.value = this.items[index].dataset.value;
    this.close(true);
    this.input.dispatchEvent(new Event('input', {bubbles: true}));
    this.input.dispatchEvent(new Event('change', {bubbles: true}));
  }

  onInputKey(event) {
    if (event.key === 'ArrowDown' && event.target === this.input) {
      event.preventDefault();
      this.open();
    }
  }

  onListKey(event) {
    const moves = {
      ArrowDown: this.active + 1, ArrowUp: this.active - 1, Home: 0, End: this.items.length - 1,
    };
    if (event.key in moves) {
      this.setActive(moves[event.key]);
    } else if (event.key === 'Enter' || event.key === ' ') {
      this.pick(this.active);
    } else if (event.key === 'Escape') {
      this.close(true);
    } else {
      return; // Tab and the rest: their usual work (focusout closes the list)
    }
    event.preventDefault();
    event.stopPropagation();
  }
}

/** Proxmox's CalendarEvent presets (www/manager6 form/CalendarEvent.js). */
export const CALENDAR_PRESETS = [
  ['*/30', 'Every 30 minutes'],
  ['*/2:00', 'Every two hours'],
  ['21:00', 'Every day 21:00'],
  ['2,22:30', 'Every day 02:30, 22:30'],
  ['mon..fri 00:00', 'Monday to Friday 00:00'],
  ['mon..fri */1:00', 'Monday to Friday: hourly'],
  ['mon..fri 7..18:00/15', 'Monday to Friday, 07:00 to 18:45: Every 15 minutes'],
  ['sun 01:00', 'Sunday 01:00'],
  ['monthly', 'Every first day of the Month 00:00'],
  ['sat *-1..7 15:00', 'First Saturday each month 15:00'],
  ['yearly', 'First day of the year 00:00'],
];

/** A schedule field: a calendar event typed or picked from Proxmox's presets. */
export function calendarEventField({name = 'schedule', label = 'Schedule', required = false, value} = {}) {
  return new ComboField({name, label, required, value, presets: CALENDAR_PRESETS});
}
