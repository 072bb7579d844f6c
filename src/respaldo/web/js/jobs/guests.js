// The guests of a backup job's editor (Proxmox's vmselector with check boxes): one row per
// VM of the resource store (ID, Node, Status, Name, Type), a check box each and one for all,
// a search in name, VMID and type, "Selected (n)". Disabled (every row checked for "All")
// when the selection mode does not take a list.

import {h} from '../util.js';

export class GuestSelector {
  /** @param {{vmid: number, node?: string, status?: string, name?: string, type?: string}[]} guests */
  constructor(guests) {
    this.guests = [...guests].sort((a, b) => a.vmid - b.vmid);
    this.selected = new Set();
    this.disabled = false;
    this.search = '';
    this.label = h('span', {class: 'guest-label'});
    this.count = h('span', {class: 'guest-count', 'aria-live': 'polite'});
    this.searchInput = h('wa-input', {size: 's', label: 'Search', type: 'search', class: 'guest-search',
      placeholder: 'Name, VMID, Type', oninput: () => {
        this.search = String(this.searchInput.value ?? '').trim().toLowerCase();
        this.render();
      },
      // Enter in the search filters; it does not submit the editor
      onkeydown: (event) => {
        if (event.key === 'Enter') event.preventDefault();
      }});
    this.all = h('wa-checkbox', {class: 'guest-all', onchange: () => this.toggleAll()},
      h('span', {class: 'sr-only'}, 'Select all shown guests'));
    this.body = h('tbody');
    const header = ['ID', 'Node', 'Status', 'Name', 'Type'].map((text) => h('th', {scope: 'col'}, text));
    this.table = h('table', {class: 'guests', 'aria-label': 'Guests'},
      h('thead', {}, h('tr', {}, h('th', {scope: 'col', class: 'check'}, this.all), header)),
      this.body);
    this.element = h('div', {class: 'guest-selector'},
      h('div', {class: 'guest-toolbar'}, this.label, h('span', {class: 'spacer'}), this.searchInput),
      h('div', {class: 'guest-scroll'}, this.table),
      h('div', {class: 'guest-footer'}, this.count));
    this.render();
  }

  /** The selected VMIDs, ascending. */
  get value() {
    return [...this.selected].sort((a, b) => a - b);
  }

  set value(vmids) {
    this.selected = new Set(vmids.map(Number));
    for (const vmid of this.selected) {
      if (!this.guests.some((g) => g.vmid === vmid)) this.guests.push({vmid, type: 'unknown'});
    }
    this.guests.sort((a, b) => a.vmid - b.vmid);
    this.render();
  }

  /** The label above the list ("Guests to Include"...); `disabled` for all/pool modes. */
  setMode(label, disabled, checkAll) {
    this.label.textContent = label;
    this.disabled = disabled;
    if (checkAll) this.selected = new Set(this.guests.map((g) => g.vmid));
    this.render();
  }

  shown() {
    const text = this.search;
    if (!text) return this.guests;
    return this.guests.filter((g) => String(g.vmid).includes(text)
      || String(g.name ?? '').toLowerCase().includes(text) || String(g.type ?? '').includes(text));
  }

  toggleAll() {
    const rows = this.shown();
    if (this.all.checked) rows.forEach((g) => this.selected.add(g.vmid));
    else rows.forEach((g) => this.selected.delete(g.vmid));
    this.render();
  }

  render() {
    const rows = this.shown();
    this.body.replaceChildren(...rows.map((g) => {
      const box = h('wa-checkbox', {class: 'guest-check', dataset: {vmid: String(g.vmid)},
        disabled: this.disabled, props: {checked: this.selected.has(g.vmid)},
        onchange: (event) => {
          if (event.target.checked) this.selected.add(g.vmid);
          else this.selected.delete(g.vmid);
          this.updateCount();
        }}, h('span', {class: 'sr-only'}, `Select ${g.vmid}${g.name ? ` (${g.name})` : ''}`));
      return h('tr', {dataset: {vmid: String(g.vmid)}},
        h('td', {class: 'check'}, box),
        ...[g.vmid, g.node ?? '', g.status ?? '', g.name ?? '', g.type ?? 'qemu']
          .map((value) => h('td', {}, String(value))));
    }));
    if (!rows.length) {
      this.body.append(h('tr', {class: 'empty'}, h('td', {colspan: '6'}, 'No guests')));
    }
    this.all.disabled = this.disabled;
    this.updateCount();
  }

  updateCount() {
    const rows = this.shown();
    this.all.checked = rows.length > 0 && rows.every((g) => this.selected.has(g.vmid));
    this.count.textContent = `Selected (${this.selected.size})`;
  }
}
