// The container page's tabs (plain module: read by the server page and the client component).
export const TABS = ["overview", "stats", "logs", "terminal"] as const;
export type Tab = (typeof TABS)[number];
