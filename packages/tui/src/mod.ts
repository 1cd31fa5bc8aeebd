// Public surface of @natschat/tui: the terminal chat (Ink) on the shared client session.
export { ChatApp, type ChatAppProps, SIDEBAR_WIDTH } from "./app.tsx";
export { type ChatModel, type SidebarEntry, sidebarEntries, userKeyByName } from "./model.ts";
export { messageRows, printable, type Row, stamp, visibleRows } from "./rows.ts";
export { type RunChatOptions, runChat } from "./run.tsx";
