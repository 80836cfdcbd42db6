import type { CertificateUrls } from "../../core/orders/orders.types.js";

/** Where the certificates surface is mounted. */
export const CERTIFICATES_PREFIX = "/certificates";

/** The PDF's suffix after the order id. */
export const PDF_SUFFIX = ".pdf";

/**
 * A fulfilled order's certificate URLs under PUBLIC_URL: the page at `/certificates/<orderId>`,
 * the PDF at `/certificates/<orderId>.pdf`. The core stores them on the order when it is fulfilled.
 */
export const certificateUrlsFor =
  (publicUrl: string): CertificateUrls =>
  (orderId) => {
    const page = `${publicUrl}${CERTIFICATES_PREFIX}/${encodeURIComponent(orderId)}`;
    return { page, download: `${page}${PDF_SUFFIX}` };
  };
