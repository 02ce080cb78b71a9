/**
 * Block Kit and Web API limits the Slack stand-in enforces (shared/contracts/README.md and Slack's
 * Block Kit reference), and the validator that applies them. This is the stand-in's own copy on
 * purpose: the product's render module applies the same limits, and importing them would make every
 * test agree with a mistake there.
 *
 * Lengths are counted in Unicode code points. Problems are worded the way Slack words them, each with
 * a JSON pointer: "must be less than 3001 characters [json-pointer:/blocks/0/text/text]". The wording of
 * Slack's messages is not documented, so tests should match the pointer and the error code, not prose.
 */

export const SLACK_LIMITS = {
  /** Blocks in one message (chat.postMessage, chat.update, chat.postEphemeral). */
  messageBlocks: 50,
  /** Blocks in a modal or an App Home view. */
  viewBlocks: 100,
  /** Message `text` past this many characters is truncated (accepted, stored truncated). */
  messageTextChars: 40_000,
  sectionTextChars: 3000,
  sectionFields: 10,
  sectionFieldChars: 2000,
  headerTextChars: 150,
  actionIdChars: 255,
  blockIdChars: 255,
  buttonTextChars: 75,
  buttonValueChars: 2000,
  buttonUrlChars: 3000,
  actionsElements: 25,
  contextElements: 10,
  inputLabelChars: 2000,
  inputHintChars: 2000,
  placeholderChars: 150,
  optionTextChars: 75,
  optionValueChars: 150,
  optionDescriptionChars: 75,
  /** Options (or option groups) in a static select or multi static select. */
  selectOptions: 100,
  overflowOptions: 5,
  /** Options in radio buttons or checkboxes. */
  choiceOptions: 10,
  /** A modal's `title`, `submit` and `close` texts. */
  modalTitleChars: 24,
  modalButtonChars: 24,
  callbackIdChars: 255,
  privateMetadataChars: 3000,
  externalIdChars: 255,
  /** A trigger_id must be exchanged (views.open/views.push) within this long of the interaction. */
  triggerLifetimeMs: 3000,
  /** chat.postMessage: about one message per second per channel. */
  postMessagesPerChannelPerSecond: 1,
} as const;

export type ViewType = "modal" | "home";
export type BlockSurface = "message" | ViewType;

/** Block types Slack accepts in some surface; anything else is refused as an unsupported type. */
const BLOCK_TYPES: ReadonlySet<string> = new Set([
  "actions",
  "context",
  "context_actions",
  "divider",
  "file",
  "header",
  "image",
  "input",
  "markdown",
  "rich_text",
  "section",
  "table",
  "video",
]);

/** Length in Unicode code points. */
export const charLength = (text: string): number => [...text].length;

/** The message text Slack stores: at most SLACK_LIMITS.messageTextChars characters. */
export function truncateMessageText(text: string): string {
  const chars = [...text];
  return chars.length <= SLACK_LIMITS.messageTextChars
    ? text
    : chars.slice(0, SLACK_LIMITS.messageTextChars).join("");
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

type Add = (pointer: string, message: string) => void;

const tooLong = (max: number) => `must be less than ${max + 1} characters`;
const tooMany = (max: number) => `no more than ${max} items allowed`;
const missing = (field: string) => `missing required field: ${field}`;

/** An optional string member: a string of at most `max` characters when present. */
function checkString(add: Add, value: unknown, pointer: string, max: number): void {
  if (value === undefined) return;
  if (typeof value !== "string") add(pointer, "must be a string");
  else if (charLength(value) > max) add(pointer, tooLong(max));
}

type TextRule = { max: number; plainOnly?: boolean };

/** A text object `{type: "plain_text" | "mrkdwn", text}` with 1..max characters. */
function checkText(add: Add, value: unknown, pointer: string, rule: TextRule, required: boolean): void {
  if (value === undefined || value === null) {
    if (required) add(pointer, missing(pointer.split("/").at(-1) ?? "text"));
    return;
  }
  if (!isRecord(value)) {
    add(pointer, "must be a text object");
    return;
  }
  const allowed = rule.plainOnly === true ? ["plain_text"] : ["plain_text", "mrkdwn"];
  if (typeof value.type !== "string" || !allowed.includes(value.type)) {
    add(`${pointer}/type`, `must be one of: ${allowed.join(", ")}`);
  }
  if (typeof value.text !== "string") {
    add(`${pointer}/text`, missing("text"));
    return;
  }
  const length = charLength(value.text);
  if (length === 0) add(`${pointer}/text`, "must be more than 0 characters");
  if (length > rule.max) add(`${pointer}/text`, tooLong(rule.max));
}

/** An array member of at most `max` items; returns the items to check (none when not an array). */
function checkArray(
  add: Add,
  value: unknown,
  pointer: string,
  max: number,
  required: boolean,
): readonly unknown[] {
  if (value === undefined) {
    if (required) add(pointer, missing(pointer.split("/").at(-1) ?? "elements"));
    return [];
  }
  if (!Array.isArray(value)) {
    add(pointer, "must be an array");
    return [];
  }
  if (value.length > max) add(pointer, tooMany(max));
  return value;
}

function checkOption(add: Add, option: unknown, pointer: string): void {
  if (!isRecord(option)) {
    add(pointer, "must be an option object");
    return;
  }
  checkText(add, option.text, `${pointer}/text`, { max: SLACK_LIMITS.optionTextChars }, true);
  checkString(add, option.value, `${pointer}/value`, SLACK_LIMITS.optionValueChars);
  checkText(
    add,
    option.description,
    `${pointer}/description`,
    { max: SLACK_LIMITS.optionDescriptionChars },
    false,
  );
}

function checkOptions(add: Add, element: Record<string, unknown>, pointer: string, max: number): void {
  checkArray(add, element.options, `${pointer}/options`, max, false).forEach((option, index) => {
    checkOption(add, option, `${pointer}/options/${index}`);
  });
  checkArray(add, element.option_groups, `${pointer}/option_groups`, max, false).forEach((group, index) => {
    const groupPointer = `${pointer}/option_groups/${index}`;
    if (!isRecord(group)) {
      add(groupPointer, "must be an option group object");
      return;
    }
    checkText(
      add,
      group.label,
      `${groupPointer}/label`,
      { max: SLACK_LIMITS.optionTextChars, plainOnly: true },
      true,
    );
    checkArray(add, group.options, `${groupPointer}/options`, max, true).forEach((option, optionIndex) => {
      checkOption(add, option, `${groupPointer}/options/${optionIndex}`);
    });
  });
}

/**
 * An interactive element (button, select, input…). `actionIds` collects the element's action_id so
 * the block can refuse duplicates.
 */
function checkElement(add: Add, element: unknown, pointer: string, actionIds: Map<string, string>): void {
  if (!isRecord(element)) {
    add(pointer, "must be an element object");
    return;
  }
  if (typeof element.type !== "string") {
    add(`${pointer}/type`, missing("type"));
    return;
  }
  const actionId = element.action_id;
  checkString(add, actionId, `${pointer}/action_id`, SLACK_LIMITS.actionIdChars);
  if (typeof actionId === "string") {
    if (actionIds.has(actionId)) add(`${pointer}/action_id`, `duplicate action_id: ${actionId}`);
    actionIds.set(actionId, pointer);
  }
  checkText(
    add,
    element.placeholder,
    `${pointer}/placeholder`,
    { max: SLACK_LIMITS.placeholderChars, plainOnly: true },
    false,
  );
  switch (element.type) {
    case "button":
      checkText(
        add,
        element.text,
        `${pointer}/text`,
        { max: SLACK_LIMITS.buttonTextChars, plainOnly: true },
        true,
      );
      checkString(add, element.value, `${pointer}/value`, SLACK_LIMITS.buttonValueChars);
      checkString(add, element.url, `${pointer}/url`, SLACK_LIMITS.buttonUrlChars);
      if (element.style !== undefined && element.style !== "primary" && element.style !== "danger") {
        add(`${pointer}/style`, "must be one of: primary, danger");
      }
      return;
    case "static_select":
    case "multi_static_select":
      checkOptions(add, element, pointer, SLACK_LIMITS.selectOptions);
      return;
    case "overflow":
      checkOptions(add, element, pointer, SLACK_LIMITS.overflowOptions);
      return;
    case "radio_buttons":
    case "checkboxes":
      checkOptions(add, element, pointer, SLACK_LIMITS.choiceOptions);
      return;
    default:
      return;
  }
}

function checkBlock(add: Add, block: Record<string, unknown>, pointer: string): void {
  const actionIds = new Map<string, string>();
  switch (block.type) {
    case "section": {
      checkText(add, block.text, `${pointer}/text`, { max: SLACK_LIMITS.sectionTextChars }, false);
      const fields = checkArray(add, block.fields, `${pointer}/fields`, SLACK_LIMITS.sectionFields, false);
      fields.forEach((field, index) => {
        checkText(add, field, `${pointer}/fields/${index}`, { max: SLACK_LIMITS.sectionFieldChars }, true);
      });
      if (block.text === undefined && block.fields === undefined) {
        add(pointer, "must provide either text or fields");
      }
      if (block.accessory !== undefined)
        checkElement(add, block.accessory, `${pointer}/accessory`, actionIds);
      return;
    }
    case "header":
      checkText(
        add,
        block.text,
        `${pointer}/text`,
        { max: SLACK_LIMITS.headerTextChars, plainOnly: true },
        true,
      );
      return;
    case "actions": {
      const elements = checkArray(
        add,
        block.elements,
        `${pointer}/elements`,
        SLACK_LIMITS.actionsElements,
        true,
      );
      elements.forEach((element, index) => {
        checkElement(add, element, `${pointer}/elements/${index}`, actionIds);
      });
      return;
    }
    case "context":
      checkArray(add, block.elements, `${pointer}/elements`, SLACK_LIMITS.contextElements, true);
      return;
    case "input":
      checkText(
        add,
        block.label,
        `${pointer}/label`,
        { max: SLACK_LIMITS.inputLabelChars, plainOnly: true },
        true,
      );
      checkText(
        add,
        block.hint,
        `${pointer}/hint`,
        { max: SLACK_LIMITS.inputHintChars, plainOnly: true },
        false,
      );
      if (block.element === undefined) add(`${pointer}/element`, missing("element"));
      else checkElement(add, block.element, `${pointer}/element`, actionIds);
      return;
    default:
      return;
  }
}

/**
 * Problems with a `blocks` array for a surface: at most 50 blocks in a message and 100 in a modal or
 * App Home, known block types, block_id ≤ 255 characters and unique, and the per-block limits.
 * `pointer` is where the array sits: "/blocks" for a message, "/view/blocks" for a view.
 */
export function blocksProblems(blocks: unknown, surface: BlockSurface, pointer: string): string[] {
  const problems: string[] = [];
  const add: Add = (at, message) => {
    problems.push(`${message} [json-pointer:${at}]`);
  };
  const max = surface === "message" ? SLACK_LIMITS.messageBlocks : SLACK_LIMITS.viewBlocks;
  const items = checkArray(add, blocks, pointer, max, false);
  const blockIds = new Set<string>();
  items.forEach((block, index) => {
    const blockPointer = `${pointer}/${index}`;
    if (!isRecord(block)) {
      add(blockPointer, "must be a block object");
      return;
    }
    if (typeof block.type !== "string") {
      add(`${blockPointer}/type`, missing("type"));
      return;
    }
    if (!BLOCK_TYPES.has(block.type)) {
      add(`${blockPointer}/type`, `unsupported type: ${block.type}`);
      return;
    }
    checkString(add, block.block_id, `${blockPointer}/block_id`, SLACK_LIMITS.blockIdChars);
    if (typeof block.block_id === "string") {
      if (blockIds.has(block.block_id))
        add(`${blockPointer}/block_id`, `duplicate block_id: ${block.block_id}`);
      blockIds.add(block.block_id);
    }
    checkBlock(add, block, blockPointer);
  });
  return problems;
}

/**
 * Problems with a view object: its type is one of `allowedTypes`; a modal has a plain_text title of
 * at most 24 characters, submit/close texts of at most 24, and a submit button when it holds input
 * blocks; callback_id ≤ 255, private_metadata ≤ 3000, external_id ≤ 255; and its blocks. Pointers
 * start at "/view", as in Slack's messages.
 */
export function viewProblems(view: unknown, allowedTypes: readonly ViewType[]): string[] {
  const problems: string[] = [];
  const add: Add = (at, message) => {
    problems.push(`${message} [json-pointer:${at}]`);
  };
  if (!isRecord(view)) {
    add("/view", "must be a JSON object");
    return problems;
  }
  const type = view.type;
  if (type !== "modal" && type !== "home") {
    add("/view/type", typeof type === "string" ? `unsupported type: ${type}` : missing("type"));
    return problems;
  }
  if (!allowedTypes.includes(type)) {
    add("/view/type", `must be one of: ${allowedTypes.join(", ")}`);
    return problems;
  }
  if (type === "modal") {
    const titleRule = { max: SLACK_LIMITS.modalTitleChars, plainOnly: true };
    const buttonRule = { max: SLACK_LIMITS.modalButtonChars, plainOnly: true };
    checkText(add, view.title, "/view/title", titleRule, true);
    checkText(add, view.submit, "/view/submit", buttonRule, false);
    checkText(add, view.close, "/view/close", buttonRule, false);
    const hasInput =
      Array.isArray(view.blocks) && view.blocks.some((block) => isRecord(block) && block.type === "input");
    if (hasInput && (view.submit === undefined || view.submit === null)) {
      add("/view/submit", "submit is required when the view contains input blocks");
    }
  }
  checkString(add, view.callback_id, "/view/callback_id", SLACK_LIMITS.callbackIdChars);
  checkString(add, view.private_metadata, "/view/private_metadata", SLACK_LIMITS.privateMetadataChars);
  checkString(add, view.external_id, "/view/external_id", SLACK_LIMITS.externalIdChars);
  if (view.blocks === undefined) add("/view/blocks", missing("blocks"));
  else problems.push(...blocksProblems(view.blocks, type, "/view/blocks"));
  return problems;
}
