import { containerOverlay, layerDirsTopFirst, type Snapshotter } from './snapshotter.js';

/**
 * The layers as they are: for containers whose ids are the ones on disk (rootless in the session's
 * own mapping, root with ids mapped one to one). Nothing to prepare, nothing of its own to free.
 */
export const plainSnapshotter: Snapshotter = {
  method: 'none',
  async prepare() {},
  async mount(ctx, root) {
    return { overlay: containerOverlay(ctx, root, layerDirsTopFirst(ctx, root)) };
  },
  release() {},
  collect: () => [],
  forgetLayer() {},
};
