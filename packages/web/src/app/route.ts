// A two-page router over the History API: "/" (welcome or chat) and "/admin".
import { useEffect, useState } from "react";

export type Route = "chat" | "admin";

function current(): Route {
  return window.location.pathname.replace(/\/+$/, "") === "/admin" ? "admin" : "chat";
}

/** Moves to a page without reloading. */
export function navigate(route: Route): void {
  const path = route === "admin" ? "/admin" : "/";
  if (window.location.pathname !== path) window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** The page the address bar names, following back/forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onPop = () => setRoute(current());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  return route;
}
