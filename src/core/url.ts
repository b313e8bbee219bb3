/**
 * A URL, or undefined when the text is not one. Most sessions have no referrer: an empty text is answered
 * without trying, since a thrown error (with its stack) per session was a cost of its own.
 */
export const parseUrl = (raw: string): URL | undefined => {
  if (raw === "") return undefined;
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
};

/** The hostname of a URL, or "" when it is not one. */
export const hostOf = (url: string): string => parseUrl(url)?.hostname ?? "";
