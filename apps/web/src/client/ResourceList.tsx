"use client";
// The list page the resources share: a head (title, summary, page-wide buttons), the page's own
// form, a filter box with the page's controls (the host picker), loading / error / empty /
// nothing-matches states, and a table (cards below 700 px), sortable by the columns that say
// how, whose rows can be selected for bulk actions, each row's result listed after. A page gives
// only what is its own: columns, row key, row actions, bulk actions, and the words of its states.
// Live updates come through the query the page passes (pushes refresh it), never a poll here.
//
// Rows are memoised: a row renders again when its item or its selection changes, or when the
// page gives other `columns`, `rowActions` or `rowData`. A page that keeps those stable (useMemo,
// module functions) and whose pushes replace one item's object renders one row per push. With
// `virtual` only the rows on screen are in the DOM (@tanstack/react-virtual, the window
// scrolls): thousands of rows load and update like twenty; "select all" still takes every row
// the filter keeps, on screen or not.
import { useMutation } from "@tanstack/react-query";
import { useWindowVirtualizer, type VirtualItem } from "@tanstack/react-virtual";
import {
  memo,
  useCallback,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";
import { eachSettled, matchesFilter, sortRows } from "./list-rows.ts";
import { errorMessage } from "./trpc.ts";

export interface Column<T> {
  /** the header, and the cell's label when the table becomes cards (below 700 px) */
  label: string;
  cell: (row: T) => ReactNode;
  /** the cell's class, the same for every row or per row */
  className?: string | ((row: T) => string | undefined);
  title?: (row: T) => string | undefined;
  /** what the column sorts by (its header becomes a button); no sorting by it without */
  sort?: (row: T) => string | number;
  /** the class of its `<col>` in a virtual table (whose columns keep fixed widths) */
  col?: string;
}

export interface BulkAction<T> {
  /** the button's word, e.g. "remove" (shown as "remove 3") */
  label: string;
  danger?: boolean;
  /** asked before running (no question when absent) */
  confirm?: (rows: T[]) => string;
  run: (row: T) => Promise<unknown>;
}

export interface ResourceListProps<T> {
  title: string;
  /** the title's level: h2 inside another page (a host's containers) */
  heading?: "h1" | "h2";
  /** what the rows are, plural and lower case ("images"): the filter's and the states' words */
  noun: string;
  /** next to the title, e.g. the count (`false` or none: nothing) */
  summary?: ReactNode;
  /** page-wide buttons at the right of the head (e.g. Prune unused) */
  headActions?: ReactNode;
  /** between the head and the filter: the create / pull form and what it answered */
  children?: ReactNode;
  /** filter box placeholder; without it no filter box */
  filterPlaceholder?: string;
  /** more controls in the filter's toolbar (the host picker) */
  controls?: ReactNode;
  /** notes about the list, under the toolbar (hosts that could not be asked) */
  notes?: ReactNode;
  query: { isPending: boolean; isError: boolean; error: unknown };
  /** the rows once loaded */
  items: T[] | undefined;
  /** while loading, e.g. "Loading images…" */
  loading: string;
  /** an empty list: why it is empty and the next step for a new user */
  empty: { title: ReactNode; next: ReactNode };
  /** the words the filter finds a row by */
  text?: (row: T) => string;
  rowKey: (row: T) => string;
  /** a row's name: its checkbox's label and its line in the bulk results */
  rowName: (row: T) => string;
  /** where a row is (its host), after its name in the bulk results */
  rowPlace?: (row: T) => string;
  /** the row's data-* attributes (what tests and scripts find it by) */
  rowData?: (row: T) => Record<`data-${string}`, string>;
  /** `false` leaves a column out (e.g. Host when one host is shown) */
  columns: Array<Column<T> | false>;
  /** the Actions cell; no Actions column without it */
  rowActions?: (row: T) => ReactNode;
  /** no selection without them (give none to a role that may not use them) */
  bulkActions?: Array<BulkAction<T>>;
  /** rows a bulk action may take (all by default) */
  selectable?: (row: T) => boolean;
  /** the sortable column (its label) the rows are sorted by at first, and which way */
  sortedBy?: { label: string; asc: boolean };
  /**
   * Only the rows on screen in the DOM, the window scrolling: for lists of thousands. The rows'
   * heights in px until they are measured: a table row, and a card below 700 px.
   */
  virtual?: { rowPx: number; cardPx: number };
  /** extra class of the table, e.g. "events" */
  tableClass?: string;
  /** under the table (e.g. a button for older entries) */
  footer?: ReactNode;
}

/** Requests in flight at once: quick enough, few enough not to flood one host. */
const PARALLEL = 4;

interface BulkResult {
  key: string;
  name: string;
  place?: string;
  error?: string;
}

function useSelection<T>(
  items: T[] | undefined,
  shown: T[],
  rowKey: (row: T) => string,
  selectable: (row: T) => boolean,
) {
  const [picked, setPicked] = useState<Set<string>>(new Set());
  // A row that went away (removed here or elsewhere) is no longer selected.
  const selected = useMemo(
    () => (items ?? []).filter((r) => selectable(r) && picked.has(rowKey(r))),
    [items, picked, rowKey, selectable],
  );
  const choosable = shown.filter(selectable);
  const keys = new Set(selected.map(rowKey));
  // Stable: the memoised rows take it, and a new function would render every row again.
  const toggle = useCallback(
    (key: string, on: boolean) =>
      setPicked((s) => {
        const next = new Set(s);
        if (on) next.add(key);
        else next.delete(key);
        return next;
      }),
    [],
  );
  const change = (rows: T[], on: boolean) =>
    setPicked((s) => {
      const next = new Set(s);
      for (const r of rows)
        if (on) next.add(rowKey(r));
        else next.delete(rowKey(r));
      return next;
    });
  return {
    selected,
    has: (key: string) => keys.has(key),
    choosable,
    allShown: choosable.length > 0 && choosable.every((r) => keys.has(rowKey(r))),
    toggle,
    change,
    keep: (rows: T[]) => setPicked(new Set(rows.map(rowKey))),
  };
}

/**
 * The bulk bar (when a shown row can be taken) and the last action's results: those stay when
 * the rows they removed leave the list, so this is mounted whenever the page has bulk actions.
 */
function BulkBar<T>({
  actions,
  showBar,
  selection,
  rowKey,
  rowName,
  rowPlace,
}: {
  actions: Array<BulkAction<T>>;
  showBar: boolean;
  selection: ReturnType<typeof useSelection<T>>;
  rowKey: (row: T) => string;
  rowName: (row: T) => string;
  rowPlace: ((row: T) => string) | undefined;
}) {
  const [running, setRunning] = useState<string | null>(null);
  const [results, setResults] = useState<{ action: string; rows: BulkResult[] } | null>(null);
  const n = selection.selected.length;

  async function run(a: BulkAction<T>) {
    const targets = selection.selected;
    if (a.confirm && !window.confirm(a.confirm(targets))) return;
    setRunning(a.label);
    setResults(null);
    const answers = await eachSettled(targets, a.run, PARALLEL);
    setRunning(null);
    setResults({
      action: a.label,
      rows: answers.map(({ item, error }) => ({
        key: rowKey(item),
        name: rowName(item),
        ...(rowPlace ? { place: rowPlace(item) } : {}),
        ...(error !== undefined ? { error: errorMessage(error) } : {}),
      })),
    });
    // The failed ones stay selected: the user can retry them or act on them otherwise.
    selection.keep(answers.filter((r) => r.error !== undefined).map((r) => r.item));
  }

  const failed = results?.rows.filter((r) => r.error !== undefined) ?? [];
  const done = results?.rows.filter((r) => r.error === undefined) ?? [];
  return (
    <>
      {showBar && (
        <div className="toolbar bulk" role="group" aria-label="Bulk actions">
          <label className="check-label">
            <input
              type="checkbox"
              checked={selection.allShown}
              onChange={(e) => selection.change(selection.choosable, e.target.checked)}
            />
            Select all {selection.choosable.length} shown
          </label>
          <span className="sub" data-testid="selected-count">
            {n} selected
          </span>
          {actions.map((a) => (
            <button
              key={a.label}
              className={`small ${a.danger ? "danger" : ""}`}
              disabled={n === 0 || running !== null}
              onClick={() => void run(a)}
            >
              {running === a.label ? `${a.label}…` : `${a.label} ${n || ""}`.trim()}
            </button>
          ))}
        </div>
      )}
      {results && (
        <div
          className={`panel bulk-results ${failed.length ? "has-failures" : ""}`}
          role={failed.length ? "alert" : "status"}
        >
          <div className="toolbar" style={{ marginBottom: 4 }}>
            <b>
              {results.action}: {done.length} done
              {failed.length > 0 && `, ${failed.length} failed`}
            </b>
            <span className="spacer" />
            <button className="small" onClick={() => setResults(null)}>
              Dismiss
            </button>
          </div>
          <ul>
            {[...failed, ...done].map((r) => (
              <li key={r.key} className={r.error !== undefined ? "failed" : "ok"}>
                <b>{r.name}</b>
                {r.place !== undefined && <span className="sub"> ({r.place})</span>}:{" "}
                {r.error ?? "done"}
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}

/**
 * A row's remove button: asks first, says "removing…" meanwhile, and shows the host's reason
 * next to it when refused; with `force` (the question for it), a way to remove it anyway.
 */
export function RemoveButton({
  question,
  remove,
  force,
}: {
  question: string;
  remove: (force: boolean) => Promise<unknown>;
  force?: string;
}) {
  const mutation = useMutation({ mutationFn: remove });
  return (
    <span className="actions">
      <button
        className="small danger"
        disabled={mutation.isPending}
        onClick={() => {
          if (window.confirm(question)) mutation.mutate(false);
        }}
      >
        {mutation.isPending ? "removing…" : "remove"}
      </button>
      {mutation.isError && (
        <span className="error inline" role="alert">
          {errorMessage(mutation.error)}{" "}
          {force && mutation.variables === false && (
            <button
              className="small danger"
              onClick={() => {
                if (window.confirm(force)) mutation.mutate(true);
              }}
            >
              remove anyway (force)
            </button>
          )}
        </span>
      )}
    </span>
  );
}

/** "remove N" on the selected rows, asking first (`note`: what else the user should know). */
export function bulkRemove<T>(
  noun: [one: string, many: string],
  note: string,
  run: (row: T) => Promise<unknown>,
): BulkAction<T> {
  return {
    label: "remove",
    danger: true,
    confirm: (rows) => `Remove ${rows.length} ${rows.length === 1 ? noun[0] : noun[1]}? ${note}`,
    run,
  };
}

const everyRow = () => true;

interface RowProps<T> {
  row: T;
  /** its key (what its checkbox toggles) and its name (the checkbox's label) */
  id: string;
  name: string;
  columns: Array<Column<T>>;
  /** the selection column is shown */
  check: boolean;
  selectable: boolean;
  selected: boolean;
  onToggle: (id: string, on: boolean) => void;
  rowData: ((row: T) => Record<`data-${string}`, string>) | undefined;
  rowActions: ((row: T) => ReactNode) | undefined;
  /** virtual tables: its place in the list, and the virtualiser's measuring of its height */
  index?: number;
  measure?: (el: HTMLTableRowElement | null) => void;
}

function ListRow<T>(p: RowProps<T>) {
  const { row } = p;
  return (
    <tr
      ref={p.measure}
      data-index={p.index}
      aria-rowindex={p.index === undefined ? undefined : p.index + 2}
      {...p.rowData?.(row)}
    >
      {p.check && (
        <td className="check" data-label="Select">
          {p.selectable && (
            <input
              type="checkbox"
              aria-label={`Select ${p.name}`}
              checked={p.selected}
              onChange={(e) => p.onToggle(p.id, e.target.checked)}
            />
          )}
        </td>
      )}
      {p.columns.map((c) => (
        <td
          key={c.label}
          data-label={c.label}
          className={typeof c.className === "function" ? c.className(row) : c.className}
          title={c.title?.(row)}
        >
          {c.cell(row)}
        </td>
      ))}
      {p.rowActions && <td data-label="Actions">{p.rowActions(row)}</td>}
    </tr>
  );
}

/** One row, memoised (see the top of this file): a push renders the row it changed only. */
const Row = memo(ListRow) as typeof ListRow;

const PHONE = "(max-width: 700px)";

/** A row's height with its margin (the phone's cards are spaced by a margin). */
function rowHeight(el: Element, entry?: ResizeObserverEntry): number {
  const box = entry?.borderBoxSize?.[0]?.blockSize ?? el.getBoundingClientRect().height;
  return Math.round(box + (parseFloat(getComputedStyle(el).marginBottom) || 0));
}

/**
 * The body of a virtual table: the rows on screen (and a few either side) between two spacer
 * rows that stand for the others, so the page scrolls as one.
 */
function VirtualBody<T>({
  rows,
  rowKey,
  size,
  colSpan,
  render,
}: {
  rows: T[];
  rowKey: (row: T) => string;
  size: { rowPx: number; cardPx: number };
  colSpan: number;
  render: (row: T, index: number, measure: (el: HTMLTableRowElement | null) => void) => ReactNode;
}) {
  const body = useRef<HTMLTableSectionElement>(null);
  const [top, setTop] = useState(0);
  const virtual = useWindowVirtualizer({
    count: rows.length,
    estimateSize: () =>
      typeof window !== "undefined" && window.matchMedia(PHONE).matches ? size.cardPx : size.rowPx,
    getItemKey: (i) => rowKey(rows[i] as T),
    measureElement: rowHeight,
    overscan: 8,
    scrollMargin: top,
  });
  // Where the rows start in the page (the notices and bulk results above them come and go).
  useLayoutEffect(() => {
    const el = body.current;
    if (!el) return;
    const at = Math.round(el.getBoundingClientRect().top + window.scrollY);
    if (at !== top) setTop(at);
  });
  const items = virtual.getVirtualItems();
  // Item offsets count from the page's top.
  const before = items.length ? (items[0] as VirtualItem).start - top : 0;
  const after = items.length ? top + virtual.getTotalSize() - (items.at(-1) as VirtualItem).end : 0;
  const spacer = (height: number, key: string) =>
    height > 0 && (
      <tr className="spacer" aria-hidden="true" key={key} style={{ height }}>
        <td colSpan={colSpan} />
      </tr>
    );
  return (
    <tbody ref={body}>
      {spacer(before, "before")}
      {items.map((v) => render(rows[v.index] as T, v.index, virtual.measureElement))}
      {spacer(after, "after")}
    </tbody>
  );
}

export function ResourceList<T>(props: ResourceListProps<T>) {
  const { items, query, rowKey, rowName, rowActions, bulkActions, text, noun, virtual } = props;
  const selectable = props.selectable ?? everyRow;
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState(props.sortedBy);
  // A page that passes the same columns keeps every row's props the same (memoised rows).
  const columns = useMemo(
    () => props.columns.filter((c): c is Column<T> => c !== false),
    [props.columns],
  );
  const sortBy = sort && columns.find((c) => c.label === sort.label)?.sort;
  const sortable = useMemo(() => columns.filter((c) => c.sort), [columns]);
  const rows = useMemo(() => {
    const kept =
      !text || !filter.trim()
        ? (items ?? [])
        : (items ?? []).filter((r) => matchesFilter(text(r), filter));
    return sortBy && sort ? sortRows(kept, sortBy, sort.asc, rowName) : kept;
  }, [items, filter, text, sortBy, sort, rowName]);
  const selection = useSelection(items, rows, rowKey, selectable);
  // No selection where no row shown can be taken (only built-in networks, say).
  const bulk = bulkActions?.length && selection.choosable.length > 0 ? bulkActions : null;
  const Heading = props.heading ?? "h1";
  const tableClass = ["list", props.tableClass, virtual && "virtual"].filter(Boolean).join(" ");

  const row = (r: T, index?: number, measure?: (el: HTMLTableRowElement | null) => void) => {
    const id = rowKey(r);
    return (
      <Row<T>
        key={id}
        row={r}
        id={id}
        name={rowName(r)}
        columns={columns}
        check={bulk !== null}
        selectable={selectable(r)}
        selected={selection.has(id)}
        onToggle={selection.toggle}
        rowData={props.rowData}
        rowActions={rowActions}
        index={index}
        measure={measure}
      />
    );
  };
  const header = (c: Column<T>) => {
    if (!c.sort)
      return (
        <th key={c.label} scope="col">
          {c.label}
        </th>
      );
    const asc = sort?.label === c.label ? sort.asc : undefined;
    return (
      <th
        key={c.label}
        scope="col"
        aria-sort={asc === undefined ? "none" : asc ? "ascending" : "descending"}
      >
        <button
          onClick={() =>
            setSort((s) => ({ label: c.label, asc: s?.label === c.label ? !s.asc : true }))
          }
        >
          {c.label} {asc === undefined ? "" : asc ? "▲" : "▼"}
        </button>
      </th>
    );
  };

  return (
    <>
      <div className="page-head">
        <Heading>{props.title}</Heading>
        {props.summary !== undefined && props.summary !== false && (
          <span className="sub">{props.summary}</span>
        )}
        {props.headActions && (
          <>
            <span className="spacer" />
            {props.headActions}
          </>
        )}
      </div>
      {props.children}
      {(props.filterPlaceholder || props.controls || sortable.length > 0) && (
        <div className="toolbar">
          {props.filterPlaceholder && (
            <input
              type="search"
              placeholder={props.filterPlaceholder}
              aria-label={`Filter ${noun}`}
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
            />
          )}
          {props.controls}
          {sortable.length > 0 && (
            // Below 700 px the table's header (its sort buttons) is hidden: the same choice here.
            <select
              className="phone-only"
              aria-label={`Sort ${noun}`}
              value={sort ? `${sort.asc ? "asc" : "desc"}:${sort.label}` : ""}
              onChange={(e) => {
                const [dir, ...label] = e.target.value.split(":");
                setSort(dir ? { label: label.join(":"), asc: dir === "asc" } : undefined);
              }}
            >
              {!sort && <option value="">Sort by…</option>}
              {sortable.flatMap((c) => [
                <option key={`asc:${c.label}`} value={`asc:${c.label}`}>
                  {`Sort: ${c.label} ▲`}
                </option>,
                <option key={`desc:${c.label}`} value={`desc:${c.label}`}>
                  {`Sort: ${c.label} ▼`}
                </option>,
              ])}
            </select>
          )}
        </div>
      )}
      {props.notes}
      {bulkActions && bulkActions.length > 0 && (
        <BulkBar
          actions={bulkActions}
          showBar={bulk !== null && rows.length > 0}
          selection={selection}
          rowKey={rowKey}
          rowName={rowName}
          rowPlace={props.rowPlace}
        />
      )}
      {query.isPending && <div className="state">{props.loading}</div>}
      {query.isError && (
        <div className="error">
          Could not load the {noun}: {errorMessage(query.error)}
        </div>
      )}
      {items && items.length === 0 && (
        <div className="panel state">
          <strong>{props.empty.title}</strong>
          {props.empty.next}
        </div>
      )}
      {items && items.length > 0 && rows.length === 0 && (
        <div className="panel state">
          <strong>Nothing matches “{filter}”</strong>
          <button className="small" onClick={() => setFilter("")}>
            Clear the filter
          </button>
        </div>
      )}
      {rows.length > 0 && (
        <table className={tableClass} aria-rowcount={virtual ? rows.length + 1 : undefined}>
          {virtual && (
            // Fixed widths: the rows on screen change as the page scrolls, the columns must not.
            <colgroup>
              {bulk && <col className="c-check" />}
              {columns.map((c) => (
                <col key={c.label} className={c.col} />
              ))}
              {rowActions && <col className="c-actions" />}
            </colgroup>
          )}
          <thead>
            <tr aria-rowindex={virtual ? 1 : undefined}>
              {bulk && (
                <th className="check">
                  <input
                    type="checkbox"
                    aria-label={`Select every one of the ${noun} shown`}
                    checked={selection.allShown}
                    onChange={(e) => selection.change(selection.choosable, e.target.checked)}
                  />
                </th>
              )}
              {columns.map(header)}
              {rowActions && <th scope="col">Actions</th>}
            </tr>
          </thead>
          {virtual ? (
            <VirtualBody
              rows={rows}
              rowKey={rowKey}
              size={virtual}
              colSpan={columns.length + (bulk ? 1 : 0) + (rowActions ? 1 : 0)}
              render={row}
            />
          ) : (
            <tbody>{rows.map((r) => row(r))}</tbody>
          )}
        </table>
      )}
      {props.footer}
    </>
  );
}
