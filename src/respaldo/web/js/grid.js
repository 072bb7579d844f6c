// A selectable, sortable data grid: a <table role="grid"> that is one tab stop; the arrow
// keys, Page Up/Down, Home and End move the selection (aria-activedescendant), Enter opens the
// row (onActivate), a click selects and a double click opens. Only the rows in view (and a
// margin) are in the page, rendered as one HTML string, with spacer rows for the rest and
// aria-rowcount/aria-rowindex telling assistive technology where they are: a list of
// thousands of rows costs what a screenful costs.

import {esc, h, uid} from './util.js';

const OVERSCAN = 20; // rows rendered above and below the visible ones
const FALLBACK_ROWS = 60; // rows rendered while the grid is not laid out yet

/**
 * @typedef Column
 * @property {string} id
 * @property {string} header
 * @property {(row: object) => any} value  the value sorted on and searched
 * @property {(row: object) => string} [html]  the cell's HTML (escaped text of value by default)
 * @property {string} [width]  a CSS width
 * @property {string} [align]  'end' for numbers
 */
export class DataGrid {
  /**
   * @param {{label: string, columns: Column[], rowId: (row: object) => string,
   *          emptyText?: string, sort?: {column: string, descending: boolean},
   *          onSelect?: (row: object|null) => void, onActivate?: (row: object) => void}} options
   */
  constructor(options) {
    this.options = options;
    this.id = uid('grid');
    this.rows = [];
    this.shown = [];
    this.filter = null;
    this.sort = options.sort ?? null;
    this.selectedId = null;
    this.table = h('table', {
      class: 'grid',
      role: 'grid',
      tabindex: '0',
      'aria-label': options.label,
      'aria-readonly': 'true',
      onkeydown: (e) => this.onKey(e),
      onclick: (e) => this.onClick(e),
      ondblclick: (e) => this.onDoubleClick(e),
    });
    this.head = h('thead');
    this.body = h('tbody');
    this.table.append(this.head, this.body);
    this.element = h('div', {class: 'grid-scroll', onscroll: () => this.onScroll()}, this.table);
    this.rowHeight = 0;
    this.window = [0, 0];
    this.scrollPending = false;
    new ResizeObserver(() => this.onScroll()).observe(this.element);
    this.renderHead();
  }

  get selected() {
    return this.shown.find((row) => this.options.rowId(row) === this.selectedId) ?? null;
  }

  /** Replace the rows; the selection stays on the same row id if it is still there. */
  setRows(rows) {
    this.rows = rows;
    this.render();
  }

  /** Show only rows for which fn(row) is true (null: all). */
  setFilter(fn) {
    this.filter = fn;
    this.render();
  }

  renderHead() {
    const cells = this.options.columns.map((column) => {
      const sorted = this.sort?.column === column.id;
      const label = h('button', {
        type: 'button',
        class: 'sort',
        tabindex: '-1',
        onclick: (e) => {
          e.stopPropagation();
          this.sortBy(column.id);
        },
      }, column.header);
      return h('th', {
        scope: 'col',
        style: column.width ? `width:${column.width}` : null,
        class: column.align === 'end' ? 'num' : null,
        'aria-sort': sorted ? (this.sort.descending ? 'descending' : 'ascending') : null,
      }, label);
    });
    this.head.replaceChildren(h('tr', {}, cells));
  }

  sortBy(columnId) {
    const descending = this.sort?.column === columnId ? !this.sort.descending : false;
    this.sort = {column: columnId, descending};
    this.renderHead();
    this.render();
  }

  ordered() {
    let rows = this.filter ? this.rows.filter(this.filter) : [...this.rows];
    const column = this.options.columns.find((c) => c.id === this.sort?.column);
    if (column) {
      const sign = this.sort.descending ? -1 : 1;
      rows = rows
        .map((row) => [column.value(row), row])
        .sort(([a], [b]) => sign * compare(a, b))
        .map(([, row]) => row);
    }
    return rows;
  }

  render() {
    this.shown = this.ordered();
    this.table.dataset.rows = String(this.shown.length);
    this.table.setAttribute('aria-rowcount', String(this.shown.length + 1));
    const index = this.shown.findIndex((row) => this.options.rowId(row) === this.selectedId);
    if (index < 0 && this.selectedId !== null) {
      this.selectedId = null;
      this.options.onSelect?.(null);
    }
    this.renderWindow(true);
    this.markActive(index);
  }

  /** The range of row indexes to have in the page for the current scroll position. */
  wanted() {
    const height = this.rowHeight || 30;
    const visible = this.element.clientHeight
      ? Math.ceil(this.element.clientHeight / height) : FALLBACK_ROWS;
    const first = Math.max(0, Math.floor(this.element.scrollTop / height) - OVERSCAN);
    return [first, Math.min(this.shown.length, first + visible + 2 * OVERSCAN)];
  }

  renderWindow(force = false) {
    const {columns, rowId} = this.options;
    const [first, last] = this.wanted();
    if (!force && first === this.window[0] && last === this.window[1]) return;
    this.window = [first, last];
    if (!this.shown.length) {
      const text = esc(this.options.emptyText ?? 'No items');
      this.body.innerHTML = `<tr class="empty"><td colspan="${columns.length}">${text}</td></tr>`;
      return;
    }
    const height = this.rowHeight || 30;
    const spacer = (rows) => (rows > 0
      ? `<tr class="spacer" aria-hidden="true"><td colspan="${columns.length}" style="height:${rows * height}px"></td></tr>`
      : '');
    const parts = [spacer(first)];
    for (let index = first; index < last; index += 1) {
      const row = this.shown[index];
      const selected = rowId(row) === this.selectedId;
      parts.push(`<tr id="${this.id}-${index}" data-index="${index}" aria-rowindex="${index + 2}" aria-selected="${selected}">`);
      for (const column of columns) {
        const html = column.html ? column.html(row) : esc(column.value(row));
        parts.push(column.align === 'end' ? `<td class="num">${html}</td>` : `<td>${html}</td>`);
      }
      parts.push('</tr>');
    }
    parts.push(spacer(this.shown.length - last));
    this.body.innerHTML = parts.join('');
    if (!this.rowHeight) {
      const tr = this.body.querySelector('tr[data-index]');
      if (tr?.offsetHeight) {
        this.rowHeight = tr.offsetHeight;
        if (this.rowHeight !== height) this.renderWindow(true);
      }
    }
  }

  onScroll() {
    if (this.scrollPending) return;
    this.scrollPending = true;
    requestAnimationFrame(() => {
      this.scrollPending = false;
      this.renderWindow();
    });
  }

  markActive(index) {
    if (index >= 0) this.table.setAttribute('aria-activedescendant', `${this.id}-${index}`);
    else this.table.removeAttribute('aria-activedescendant');
  }

  /** Select the row with this id (or the row at an index), scroll it into view. */
  select(id) {
    const index = this.shown.findIndex((row) => this.options.rowId(row) === id);
    this.selectIndex(index);
  }

  selectIndex(index) {
    if (index < 0 || index >= this.shown.length) return;
    this.scrollToIndex(index);
    const before = this.body.querySelector('tr[aria-selected="true"]');
    before?.setAttribute('aria-selected', 'false');
    const tr = this.body.querySelector(`tr[data-index="${index}"]`);
    tr?.setAttribute('aria-selected', 'true');
    tr?.scrollIntoView({block: 'nearest'});
    const row = this.shown[index];
    const changed = this.options.rowId(row) !== this.selectedId;
    this.selectedId = this.options.rowId(row);
    this.markActive(index);
    if (changed) this.options.onSelect?.(row);
  }

  /** Scroll so that row `index` is in the page (rendering its window at once). */
  scrollToIndex(index) {
    const height = this.rowHeight || 30;
    const [first, last] = this.window;
    if (index >= first && index < last) return;
    const head = this.head.offsetHeight || 0;
    this.element.scrollTop = Math.max(0, index * height - head);
    this.renderWindow(true);
  }

  currentIndex() {
    return this.shown.findIndex((row) => this.options.rowId(row) === this.selectedId);
  }

  onKey(event) {
    const index = this.currentIndex();
    const last = this.shown.length - 1;
    const moves = {
      ArrowDown: Math.min(last, index + 1),
      ArrowUp: Math.max(0, index - 1),
      PageDown: Math.min(last, index + 10),
      PageUp: Math.max(0, index - 10),
      Home: 0,
      End: last,
    };
    if (event.key in moves) {
      event.preventDefault();
      this.selectIndex(index < 0 ? 0 : moves[event.key]);
    } else if (event.key === 'Enter' && index >= 0) {
      event.preventDefault();
      this.options.onActivate?.(this.shown[index]);
    } else if (event.key === ' ' && index < 0 && this.shown.length) {
      event.preventDefault();
      this.selectIndex(0);
    }
  }

  rowIndexOf(event) {
    const tr = event.target.closest('tr[data-index]');
    return tr ? Number(tr.dataset.index) : -1;
  }

  onClick(event) {
    const index = this.rowIndexOf(event);
    if (index >= 0) this.selectIndex(index);
  }

  onDoubleClick(event) {
    const index = this.rowIndexOf(event);
    if (index >= 0) this.options.onActivate?.(this.shown[index]);
  }
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null || a === '') return -1;
  if (b === undefined || b === null || b === '') return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, {numeric: true});
}
