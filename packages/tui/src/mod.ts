// Public surface of @natschat/tui: the terminal chat (Ink) on the shared client session.
export { ChatApp, type ChatAppProps, SIDEBAR_WIDTH } from "./app.tsx";
export {
  type ChatModel,
  clock,
  type SidebarEntry,
  sidebarEntries,
  visibleMessages,
} from "./model.ts";
export { type RunChatOptions, runChat } from "./run.tsx";
