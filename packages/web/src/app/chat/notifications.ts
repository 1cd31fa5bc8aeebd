// Browser notifications for mentions and DMs (the session's onNotify, which already leaves out
// our own messages and muted conversations): shown with the Notification API only while the tab
// is hidden — a visible tab shows the message itself. Permission is asked only from a click on
// "Enable notifications", which the page offers once the user has sent a message (a prompt on
// load is what browsers and users punish); "Not now" is remembered in this browser.
import type { ChatSession } from "@natschat/client";
import { useCallback, useEffect, useState } from "react";
import { excerpt } from "./composer-text.ts";

const DISMISSED = "natschat:notifications-dismissed";

function supported(): boolean {
  return typeof Notification !== "undefined";
}

export interface NotificationsOffer {
  /** Show the "Enable notifications" button. */
  offer: boolean;
  enable: () => void;
  dismiss: () => void;
  /** The user sent a message: the offer may show. */
  sent: () => void;
}

export function useNotifications(
  session: ChatSession,
  /** Opens a conversation (a click on a notification). */
  open: (conversation: string) => void,
  /** "#KUBECON" or a person's name, for a conversation id. */
  where: (conversation: string) => string,
): NotificationsOffer {
  const [permission, setPermission] = useState(() =>
    supported() ? Notification.permission : "denied",
  );
  const [hasSent, setHasSent] = useState(false);
  const [dismissed, setDismissed] = useState(() => localStorage.getItem(DISMISSED) === "1");

  useEffect(
    () =>
      session.onNotify(({ conversation, message, reason }) => {
        if (!supported() || Notification.permission !== "granted") return;
        if (document.visibilityState !== "hidden") return;
        const title =
          reason === "dm" ? message.display : `${message.display} in ${where(conversation)}`;
        const n = new Notification(title, {
          body: excerpt(message, 140),
          tag: conversation,
        });
        n.onclick = () => {
          window.focus();
          open(conversation);
          n.close();
        };
      }),
    [session, open, where],
  );

  const enable = useCallback(() => {
    void Notification.requestPermission().then(setPermission);
  }, []);
  const dismiss = useCallback(() => {
    localStorage.setItem(DISMISSED, "1");
    setDismissed(true);
  }, []);
  const sent = useCallback(() => setHasSent(true), []);
  return {
    offer: supported() && permission === "default" && hasSent && !dismissed,
    enable,
    dismiss,
    sent,
  };
}
