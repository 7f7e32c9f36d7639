// A tiny protobuf encoder for the pprof CPU profiles the browser tests push
// to `whyslow serve` (written here: the tests need a handful of fields, and
// no npm package is worth a dependency for that). Field numbers are those of
// pprof's profile.proto.

const varint = n => {
  const out = [];
  let v = BigInt(n);
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
  return Buffer.from(out);
};
const tag = (num, wire) => varint((num << 3) | wire);
const int = (num, v) => Buffer.concat([tag(num, 0), varint(v)]);
const bytes = (num, buf) => Buffer.concat([tag(num, 2), varint(buf.length), buf]);
const packed = (num, values) => bytes(num, Buffer.concat(values.map(varint)));

/**
 * A pprof CPU profile (cpu/nanoseconds). Each sample is `{ stack (root
 * first), ns, labels: { key: string value } (a falsy value is left out),
 * numLabels: [[key, number or BigInt, unit?]] }`; one location and function
 * per distinct frame name.
 */
export function cpuPprof(samples, { timeNs, durationNs, periodNs }) {
  const strings = [''];
  const str = s => { let i = strings.indexOf(s); if (i < 0) { strings.push(s); i = strings.length - 1; } return i; };
  const functions = [];
  const fn = name => { let i = functions.indexOf(name); if (i < 0) { functions.push(name); i = functions.length - 1; } return i + 1; };
  const valueType = () => Buffer.concat([int(1, str('cpu')), int(2, str('nanoseconds'))]);
  const parts = [bytes(1, valueType())];
  // Label{key=1, str=2, num=3, num_unit=4}.
  const strLabel = ([key, value]) => bytes(3, Buffer.concat([int(1, str(key)), int(2, str(value))]));
  const numLabel = ([key, num, unit]) => bytes(3, Buffer.concat([int(1, str(key)), int(3, num), ...(unit ? [int(4, str(unit))] : [])]));
  for (const { stack, ns, labels = {}, numLabels = [] } of samples) {
    const ids = stack.map(fn).reverse(); // pprof lists the leaf first; location id = function id here
    const label = [...Object.entries(labels).filter(([, v]) => v).map(strLabel), ...numLabels.map(numLabel)];
    parts.push(bytes(2, Buffer.concat([packed(1, ids), packed(2, [ns]), ...label])));
  }
  functions.forEach((name, i) => {
    parts.push(bytes(4, Buffer.concat([int(1, i + 1), bytes(4, int(1, i + 1))])));
    parts.push(bytes(5, Buffer.concat([int(1, i + 1), int(2, str(name))])));
  });
  parts.push(int(9, timeNs), int(10, durationNs), bytes(11, valueType()), int(12, periodNs));
  return Buffer.concat([...parts, ...strings.map(s => bytes(6, Buffer.from(s)))]);
}
