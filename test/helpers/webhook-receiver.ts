/**
 * A real HTTP webhook receiver for the alert tests: keeps every POST (path with query, headers,
 * parsed JSON body) and answers what the test asks (a robot's `{"errcode":0}`, a 500, a refusal).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  url: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  received: ReceivedMessage[];
  /**
   * Decides each answer: status and JSON body (default 200 `{"errcode":0,"errmsg":"ok"}`). A
   * message answered with a non-2xx status is still kept in `received`, marked by `refused`.
   */
  answer: (message: ReceivedMessage) => { status: number; body: unknown };
  refused: ReceivedMessage[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    refused: [],
    answer: () => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req);
    const message: ReceivedMessage = {
      url: req.url ?? '',
      contentType: req.headers['content-type'],
      body: JSON.parse(text) as Record<string, unknown>,
    };
    const { status, body } = receiver.answer(message);
    const accepted =
      status >= 200 && status < 300 && (body as { errcode?: number } | undefined)?.errcode === 0;
    (accepted ? receiver.received : receiver.refused).push(message);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
