// The conversation a user had open, per key, so that a reload reopens it (localStorage).
const storageKey = (userKey: string) => `natschat:last-conversation:${userKey}`;

export function saveLastConversation(userKey: string, id: string): void {
  localStorage.setItem(storageKey(userKey), id);
}

export function loadLastConversation(userKey: string): string | undefined {
  return localStorage.getItem(storageKey(userKey)) ?? undefined;
}
