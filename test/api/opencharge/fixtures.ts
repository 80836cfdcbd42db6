/** Shared fixtures of the Opencharge tests: the docs' examples and the known-answer vector. */

// The known-answer vector of shared/design/opencharge.md (RFC 6979, low-S, recovery id 1).
export const VECTOR = {
  privateKey: "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
  publicKey:
    "4e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e47fd35c4215d1edf53e6f83de344615ce719bdb0fd878f6ed76f06dd277956de",
  ocid: "200",
  timestamp: "1706500000",
  nonce: "req_abc123",
  method: "POST",
  path: "/opencharge/payment/create",
  body: '{"amount":"10.00","currency":"USD"}',
  bodyHash: "ea6a5c95109ae6382ed7a3f35bd90f1236e4d6a92f030086d5b6df02b1a4ac8f",
  message:
    "200\n1706500000\nreq_abc123\nPOST\n/opencharge/payment/create\nea6a5c95109ae6382ed7a3f35bd90f1236e4d6a92f030086d5b6df02b1a4ac8f",
  signature:
    "fc889c8b6cdb0b5bd79fd0bc4b171872173bf08573831f3a37daf3d6b721e1c56ed828416bc1e6416e9bf088bf92a60c5ad3df1f7d6f8a314bc2307e5fb019831c",
} as const;

// seed 002's order example, keys in the docs' order.
export const DOC_ORDER = {
  id: "ord_abc123",
  ocid: 500,
  reference: "INV-001",
  amount: "99.99",
  currency: "USD",
  items: [{ id: "item_001", name: "Product A", quantity: 1, price: "99.99" }],
  memo: "Order from Merchant Store",
  createdAt: 1706313600,
  expiresAt: 1706400000,
  accepts: [100, 101, 102],
};

// Written out by hand from the rules, not by any code.
export const DOC_ORDER_DEEP =
  '{"accepts":[100,101,102],"amount":"99.99","createdAt":1706313600,"currency":"USD","expiresAt":1706400000,' +
  '"id":"ord_abc123","items":[{"id":"item_001","name":"Product A","price":"99.99","quantity":1}],' +
  '"memo":"Order from Merchant Store","ocid":500,"reference":"INV-001"}';
export const DOC_ORDER_SHALLOW =
  '{"accepts":[100,101,102],"amount":"99.99","createdAt":1706313600,"currency":"USD","expiresAt":1706400000,' +
  '"id":"ord_abc123","items":[{"id":"item_001"}],"memo":"Order from Merchant Store","ocid":500,"reference":"INV-001"}';

// The transaction-proofs page's example proof.
export const DOC_PROOF = {
  txid: "barclays_tx_456",
  issuer: 100,
  from: { ocid: 200, reference: "paypal_tx_123" },
  to: { ocid: 300, reference: "momo_tx_789" },
  amount: "10000.00",
  currency: "UGX",
  timestamp: 1706500500,
  memo: "Settlement for ORD-2024-001",
};
export const DOC_PROOF_DEEP =
  '{"amount":"10000.00","currency":"UGX","from":{"ocid":200,"reference":"paypal_tx_123"},"issuer":100,' +
  '"memo":"Settlement for ORD-2024-001","timestamp":1706500500,"to":{"ocid":300,"reference":"momo_tx_789"},' +
  '"txid":"barclays_tx_456"}';
export const DOC_PROOF_SHALLOW =
  '{"amount":"10000.00","currency":"UGX","from":{},"issuer":100,"memo":"Settlement for ORD-2024-001",' +
  '"timestamp":1706500500,"to":{},"txid":"barclays_tx_456"}';

// A metadata config as Kassa would publish it.
export const CONFIG = {
  publicKey:
    "4e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e47fd35c4215d1edf53e6f83de344615ce719bdb0fd878f6ed76f06dd277956de",
  endpoint: "https://kassa.example/opencharge",
  capabilities: ["checkout.create"],
  settlement: { currencies: ["USD", "EUR"], accepts: [100] },
};
export const CONFIG_DEEP =
  '{"capabilities":["checkout.create"],"endpoint":"https://kassa.example/opencharge",' +
  '"publicKey":"4e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e47fd35c4215d1edf53e6f83de344615ce719bdb0fd878f6ed76f06dd277956de",' +
  '"settlement":{"accepts":[100],"currencies":["USD","EUR"]}}';
