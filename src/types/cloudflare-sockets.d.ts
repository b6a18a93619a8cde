// The Workers socket module (types only; the runtime provides it).
declare module "cloudflare:sockets" {
  export function connect(address: { hostname: string; port: number } | string, options?: { secureTransport?: "off" | "on" | "starttls"; allowHalfOpen?: boolean }): unknown;
}
