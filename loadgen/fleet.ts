// The fleet a seed describes: services with their endpoints, customers, regions, each with skewed
// popularity, and the per-endpoint behaviour (latency, status mix, response size) requests draw from.
// Reference data (ref.services, ref.customers) comes from the same model.
import { Random, WeightedPicker, zipfWeights } from './prng.ts';

export interface FleetOptions {
  seed: number;
  /** Default 12. */
  services?: number;
  /** Default 2000. */
  customers?: number;
  /** 4 to 7; default 5. */
  regions?: number;
}

export interface Endpoint {
  /** Index in `Fleet.endpoints`. */
  index: number;
  service: number;
  method: string;
  route: string;
  okStatus: number;
  latencyMedianMs: number;
  latencySigma: number;
  /** Probability of a heavy-tail (Pareto) latency on top of the lognormal. */
  tailProbability: number;
  fraction4xx: number;
  fraction5xx: number;
  bytesMedian: number;
}

export interface FleetService {
  index: number;
  name: string;
  team: string;
  /** 1 = most critical. */
  tier: number;
  latencySloMs: number;
  availabilitySlo: number;
  endpoints: Endpoint[];
  endpointPicker: WeightedPicker;
}

export interface FleetCustomer {
  index: number;
  id: string;
  plan: 'free' | 'pro' | 'enterprise';
  /** Index into `Fleet.regions`. */
  accountRegion: number;
}

export interface Fleet {
  seed: number;
  services: FleetService[];
  /** Every endpoint of every service, indexed by `Endpoint.index`. */
  endpoints: Endpoint[];
  customers: FleetCustomer[];
  regions: string[];
  servicePicker: WeightedPicker;
  customerPicker: WeightedPicker;
  regionPicker: WeightedPicker;
}

const SERVICE_NAMES = [
  'checkout',
  'payments',
  'orders',
  'catalog',
  'search',
  'accounts',
  'auth',
  'cart',
  'inventory',
  'shipping',
  'notifications',
  'recommendations',
  'reviews',
  'pricing',
  'billing',
  'media',
  'gateway',
  'invoices',
  'loyalty',
  'returns',
];
const TEAMS = ['commerce', 'platform', 'identity', 'fulfilment', 'discovery', 'growth', 'finance'];
const REGIONS = [
  'us-east-1',
  'eu-west-1',
  'us-west-2',
  'ap-southeast-1',
  'eu-central-1',
  'sa-east-1',
  'ap-northeast-1',
];
const SUB_RESOURCES = ['history', 'items', 'events', 'status', 'lines'];
const ACTIONS = ['cancel', 'confirm', 'retry', 'refund', 'archive'];

interface RouteShape {
  method: string;
  route: (noun: string, random: Random) => string;
  okStatus: number;
  /** Multipliers on the service's base latency and response size. */
  latency: number;
  bytes: number;
}

const ROUTE_SHAPES: RouteShape[] = [
  { method: 'GET', route: (n) => `/api/${n}/{id}`, okStatus: 200, latency: 1, bytes: 1 },
  { method: 'GET', route: (n) => `/api/${n}`, okStatus: 200, latency: 2.5, bytes: 8 },
  { method: 'POST', route: (n) => `/api/${n}`, okStatus: 201, latency: 3, bytes: 0.4 },
  {
    method: 'GET',
    route: (n, r) => `/api/${n}/{id}/${r.pick(SUB_RESOURCES)}`,
    okStatus: 200,
    latency: 1.8,
    bytes: 4,
  },
  { method: 'PUT', route: (n) => `/api/${n}/{id}`, okStatus: 200, latency: 2.2, bytes: 0.8 },
  { method: 'GET', route: (n) => `/api/${n}/search`, okStatus: 200, latency: 4, bytes: 10 },
  {
    method: 'POST',
    route: (n, r) => `/api/${n}/{id}/${r.pick(ACTIONS)}`,
    okStatus: 200,
    latency: 3.5,
    bytes: 0.3,
  },
  { method: 'DELETE', route: (n) => `/api/${n}/{id}`, okStatus: 204, latency: 1.5, bytes: 0 },
];

export function buildFleet(options: FleetOptions): Fleet {
  const serviceCount = options.services ?? 12;
  const customerCount = options.customers ?? 2000;
  const regionCount = Math.min(REGIONS.length, Math.max(4, options.regions ?? 5));
  const random = new Random(options.seed, 1);

  const regions = REGIONS.slice(0, regionCount);
  const regionPicker = new WeightedPicker(zipfWeights(regionCount, 0.8));
  const names = shuffled(SERVICE_NAMES, random);
  const endpoints: Endpoint[] = [];
  const services: FleetService[] = [];
  for (let s = 0; s < serviceCount; s++) {
    const base = names[s % names.length] ?? 'service';
    const name = s < names.length ? base : `${base}-${Math.floor(s / names.length) + 1}`;
    const service = buildService(s, name, random, endpoints);
    services.push(service);
  }
  const customers = buildCustomers(customerCount, regionCount, random);
  return {
    seed: options.seed,
    services,
    endpoints,
    customers,
    regions,
    servicePicker: new WeightedPicker(zipfWeights(serviceCount, 1.1)),
    customerPicker: new WeightedPicker(zipfWeights(customerCount, 1.05)),
    regionPicker,
  };
}

function buildService(index: number, name: string, random: Random, all: Endpoint[]): FleetService {
  const noun = name.replace(/-\d+$/, '');
  const count = random.int(3, ROUTE_SHAPES.length);
  const shapes = [ROUTE_SHAPES[0], ...shuffled(ROUTE_SHAPES.slice(1), random)].slice(0, count);
  const baseLatency = 4 + random.next() * 30;
  const baseBytes = 300 + random.next() * 2500;
  const errorProneness = random.lognormal(1, 0.6);
  const endpoints: Endpoint[] = [];
  for (const shape of shapes) {
    if (shape === undefined) continue;
    const endpoint: Endpoint = {
      index: all.length,
      service: index,
      method: shape.method,
      route: shape.route(noun, random),
      okStatus: shape.okStatus,
      latencyMedianMs: round2(baseLatency * shape.latency * (0.7 + random.next() * 0.6)),
      latencySigma: 0.35 + random.next() * 0.5,
      tailProbability: 0.002 + random.next() * 0.008,
      fraction4xx: Math.min(0.12, (0.01 + random.next() * 0.04) * errorProneness),
      fraction5xx: Math.min(0.03, (0.0005 + random.next() * 0.004) * errorProneness),
      bytesMedian: Math.round(baseBytes * shape.bytes),
    };
    all.push(endpoint);
    endpoints.push(endpoint);
  }
  const tier = index < 3 ? 1 : random.int(1, 3);
  const slowestMedian = Math.max(...endpoints.map((e) => e.latencyMedianMs));
  return {
    index,
    name,
    team: random.pick(TEAMS),
    tier,
    // p95 objective with room for normal tails; an incident multiplying latency by 5 breaks it.
    latencySloMs: Math.ceil((slowestMedian * 8) / 50) * 50,
    availabilitySlo: tier === 1 ? 0.999 : tier === 2 ? 0.995 : 0.99,
    endpoints,
    endpointPicker: new WeightedPicker(zipfWeights(endpoints.length, 0.9)),
  };
}

function buildCustomers(count: number, regionCount: number, random: Random): FleetCustomer[] {
  const seen = new Set<string>();
  const customers: FleetCustomer[] = [];
  const regionPicker = new WeightedPicker(zipfWeights(regionCount, 0.8));
  for (let i = 0; i < count; i++) {
    let id: string;
    do {
      id = `cust-${random.nextUint32().toString(36).padStart(7, '0')}`;
    } while (seen.has(id));
    seen.add(id);
    // The busiest customers are mostly on the enterprise plan.
    const rankShare = i / count;
    const enterprise = rankShare < 0.02 ? 0.7 : 0.05;
    const u = random.next();
    const plan = u < enterprise ? 'enterprise' : u < enterprise + 0.3 ? 'pro' : 'free';
    customers.push({ index: i, id, plan, accountRegion: regionPicker.pick(random) });
  }
  return customers;
}

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
