"use client";
// The list page the resources share: a head (title, summary, page-wide buttons), the page's own
// form, a filter box with the page's controls (the host picker), loading / error / empty /
// nothing-matches states, and a table (cards below 700 px) whose rows can be selected for bulk
// actions, each row's result listed after. A page gives only what is its own: columns, row key,
// row actions, bulk actions, and the words of its states. Live updates come through the query
// the page passes (pushes refresh it), never a poll here.
import { useMutation } from "@tanstack/react-query";
import { useMemo, useState, type ReactNode } from "react";
import { eachSettled, matchesFilter } from "./list-rows.ts";
import { errorMessage } from "./trpc.ts";

export interface Column<T> {
  /** the header, and the cell's label when the table becomes cards (below 700 px) */
  label: string;
  cell: (row: T) => ReactNode;
  /** the cell's class, the same for every row or per row */
  className?: string | ((row: T) => string | undefined);
  title?: (row: T) => string | undefined;
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
    has: (row: T) => keys.has(rowKey(row)),
    choosable,
    allShown: choosable.length > 0 && choosable.every((r) => keys.has(rowKey(r))),
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
}: {
  actions: Array<BulkAction<T>>;
  showBar: boolean;
  selection: ReturnType<typeof useSelection<T>>;
  rowKey: (row: T) => string;
  rowName: (row: T) => string;
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
                <b>{r.name}</b>: {r.error ?? "done"}
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

export function ResourceList<T>(props: ResourceListProps<T>) {
  const { items, query, rowKey, rowName, rowActions, bulkActions, text, noun } = props;
  const selectable = props.selectable ?? everyRow;
  const [filter, setFilter] = useState("");
  const rows = useMemo(() => {
    if (!text || !filter.trim()) return items ?? [];
    return (items ?? []).filter((r) => matchesFilter(text(r), filter));
  }, [items, filter, text]);
  const selection = useSelection(items, rows, rowKey, selectable);
  // No selection where no row shown can be taken (only built-in networks, say).
  const bulk = bulkActions?.length && selection.choosable.length > 0 ? bulkActions : null;
  const columns = props.columns.filter((c): c is Column<T> => c !== false);

  return (
    <>
      <div className="page-head">
        <h1>{props.title}</h1>
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
      {(props.filterPlaceholder || props.controls) && (
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
        <table className={props.tableClass ? `list ${props.tableClass}` : "list"}>
          <thead>
            <tr>
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
              {columns.map((c) => (
                <th key={c.label} scope="col">
                  {c.label}
                </th>
              ))}
              {rowActions && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={rowKey(r)} {...props.rowData?.(r)}>
                {bulk && (
                  <td className="check" data-label="Select">
                    {selectable(r) && (
                      <input
                        type="checkbox"
                        aria-label={`Select ${rowName(r)}`}
                        checked={selection.has(r)}
                        onChange={(e) => selection.change([r], e.target.checked)}
                      />
                    )}
                  </td>
                )}
                {columns.map((c) => (
                  <td
                    key={c.label}
                    data-label={c.label}
                    className={typeof c.className === "function" ? c.className(r) : c.className}
                    title={c.title?.(r)}
                  >
                    {c.cell(r)}
                  </td>
                ))}
                {rowActions && <td data-label="Actions">{rowActions(r)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.footer}
    </>
  );
}
