/**
 * Post-training weight quantization algorithms that produce {@link org.qtale.quant.QuantizedMatrix}: round-to-nearest
 * with the two reference grid rules ({@link org.qtale.quant.algo.GptqGrid}, {@link org.qtale.quant.algo.AwqGrid}),
 * GPTQ ({@link org.qtale.quant.algo.Gptq}) on a {@link org.qtale.quant.algo.Hessian} of calibration inputs, and MagR
 * ({@link org.qtale.quant.algo.Magr}, {@link org.qtale.quant.algo.MagrGptq}).
 *
 * <p>Conventions: a weight matrix is {@code float[rows][cols]} with rows = output channels and columns = input
 * channels ({@code nn.Linear}); groups run along the columns. A group size of {@code -1} (the reference scripts'
 * {@code --groupsize -1}) or {@code cols} means one group per row (per-channel). Rounding is {@link Math#rint}, half
 * to even, as {@code torch.round}.
 */
package org.qtale.quant.algo;
