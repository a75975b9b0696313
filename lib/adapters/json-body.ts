/** An HTTP answer's body as JSON, or undefined when it is not JSON (an empty body, a proxy's HTML page). */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
