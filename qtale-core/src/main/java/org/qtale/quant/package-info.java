/**
 * Quantized weight formats: the canonical {@link org.qtale.quant.QuantizedMatrix}, the packed runtime formats with
 * their kernels, and the GPTQ / AWQ checkpoint layouts. The algorithms that produce them live in qtale-quant.
 */
package org.qtale.quant;
