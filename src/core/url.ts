/** The hostname of a URL, or "" when it is not one. */
export const hostOf = (url: string): string => {
  if (url === "") return "";
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
};
