/** The hostname of a URL, or "" when it is not one. */
export const hostOf = (url: string): string => {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
};
