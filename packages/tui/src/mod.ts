// Public surface of @natschat/tui: the terminal chat (Ink) on the shared client session.
export { ChatApp, type ChatAppProps, QUICK_REACTIONS, SIDEBAR_WIDTH } from "./app.tsx";
export { completeMention, mentionAtEnd, typingLine } from "./compose.ts";
export {
  type AlertReason,
  type ChatModel,
  conversationLabel,
  type SidebarEntry,
  sidebarEntries,
  userKeyByName,
} from "./model.ts";
export {
  messageRows,
  metaLine,
  plainText,
  printable,
  quoteLine,
  type Row,
  stamp,
  tombstone,
  visibleRows,
} from "./rows.ts";
export { type RunChatOptions, runChat } from "./run.tsx";
