import uWS from "uWebSockets.js";

/**
 * The edge's HTTP ceiling: a bare uWebSockets.js server that reads the POST body, parses
 * the JSON, and answers 202 with the accepted count and ids, as Pulse's edge does, but
 * without validation, batching or JetStream. Prints `LISTENING <port>` when ready.
 */
const port = Number(process.argv[2] ?? 0);

uWS
  .App()
  .post("/collect", (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const chunks: Buffer[] = [];
    res.onData((chunk, isLast) => {
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast || aborted) return;
      let answer: string;
      let status = "202 Accepted";
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { events?: { id?: string }[]; id?: string };
        const events = Array.isArray(body.events) ? body.events : [body];
        answer = JSON.stringify({ accepted: events.length, ids: events.map((e) => e.id ?? ""), rejected: [] });
      } catch {
        status = "400 Bad Request";
        answer = '{"error":{"code":"invalid_json"}}';
      }
      res.cork(() => {
        res.writeStatus(status).writeHeader("Content-Type", "application/json").end(answer);
      });
    });
  })
  .listen("127.0.0.1", port, (token) => {
    if (!token) {
      console.error(`cannot listen on ${port}`);
      process.exit(1);
    }
    console.log(`LISTENING ${uWS.us_socket_local_port(token)}`);
  });
process.on("SIGTERM", () => process.exit(0));
