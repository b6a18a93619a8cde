/** A real DNS server on loopback (dns2 over UDP) answering MX, A and TXT from a table (read per query, so a test may change it). */
import dns2 from "dns2";

export interface Zone {
  mx?: Record<string, { exchange: string; priority: number }[]>;
  a?: Record<string, string[]>;
  /** Each record as its character-strings (a long DKIM key is several). */
  txt?: Record<string, string[][]>;
}

export interface DnsServer {
  address: string;
  close(): Promise<void>;
}

export async function startDns(zone: Zone): Promise<DnsServer> {
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request: any, send: (r: any) => void) => {
      const response: { answers: unknown[] } = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      const name = String(q.name).toLowerCase();
      if (q.type === Packet.TYPE.MX) {
        for (const r of zone.mx?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 60, exchange: r.exchange, priority: r.priority });
      }
      if (q.type === Packet.TYPE.A) {
        for (const ip of zone.a?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address: ip });
      }
      if (q.type === Packet.TYPE.TXT) {
        for (const data of zone.txt?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data });
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
  const port = (server.addresses() as { udp: { port: number } }).udp.port;
  return { address: `127.0.0.1:${port}`, close: () => server.close() };
}
