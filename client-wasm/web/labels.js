// The words the screens show that are theirs alone (sync and review states, SSDA903 codes),
// and the visit's words from Rust.

export const SYNC_LABELS = {
  saving: ["Saving on this device…", "grey"],
  device: ["Saved on this device", "orange"],
  sending: ["Sending to the server…", "blue"],
  server: ["Saved to the server", "green"],
  refused: ["Not accepted by the server", "red"],
};
// A visit's words (field labels, coded answers, the form's sections) are Rust's, the same
// the print, exports and subject access use (shared::model::wording, handed over by the
// wasm's `wording()`): app.js installs them once at start with useWording.
export let FIELD_NAMES = {};
export let CHOICES = {};
export let SECTIONS = [];
export let TOPICS = [];
export let OWNER_TYPES = [];
export let ACTION_STATUSES = [];
let SECTION_OF = {};
export function useWording(table) {
  ({ fields: FIELD_NAMES, choices: CHOICES, sections: SECTIONS, sectionOf: SECTION_OF } = table);
  ({ topics: TOPICS, ownerType: OWNER_TYPES, actionStatus: ACTION_STATUSES } = CHOICES);
}
// Whether a field's question is answered yes or no.
export const isYesNo = (field) => CHOICES[field]?.map(([code]) => code).join() === "yes,no";
export const sectionOf = (field) => SECTION_OF[field.split(/[.[]/)[0]] ?? "details";
// SSDA903 codes (DfE children looked after return) with what they mean.
export const LEGAL_STATUS = {
  C1: "Interim care order", C2: "Full care order", D1: "Freeing order granted", E1: "Placement order granted",
  J1: "Remanded to local authority or youth detention accommodation", J2: "Placed in local authority accommodation under PACE 1984",
  J3: "Sentenced to a supervision order with a residence requirement", L1: "Under police protection, in local authority accommodation",
  L2: "Emergency protection order", L3: "Under a child assessment order, in local authority accommodation",
  V2: "Accommodated under section 20 (a single period)", V3: "Agreed series of short breaks (each episode recorded)",
  V4: "Agreed series of short breaks (the agreement recorded)",
};
export const PLACEMENT_TYPES = {
  A3: "Placed for adoption with consent, with current foster carers", A4: "Placed for adoption with consent, not with current foster carers",
  A5: "Placed for adoption under a placement order, with current foster carers", A6: "Placed for adoption under a placement order, not with current foster carers",
  H5: "Semi-independent living accommodation", K1: "Secure children's home", K2: "Children's home",
  P1: "Placed with own parents or others with parental responsibility", P2: "Independent living", P3: "Residential employment",
  R1: "Residential care home", R2: "NHS or other health establishment", R3: "Family centre or mother and baby unit", R5: "Young offender institution",
  S1: "Residential school", T0: "Temporary move", T1: "Temporary: in hospital", T2: "Temporary: on holiday",
  T3: "Temporary: while the usual foster carers are on holiday", T4: "Temporary: 7 days or less",
  U1: "Foster placement with relatives or friends: long-term fostering", U2: "Foster placement with relatives or friends: fostering for adoption",
  U3: "Foster placement with relatives or friends", U4: "Foster placement with other foster carers: long-term fostering",
  U5: "Foster placement with other foster carers: fostering for adoption", U6: "Foster placement with other foster carers", Z1: "Other placement",
};
export const PROVIDERS = { PR0: "Parents or others with parental responsibility", PR1: "The council's own provision", PR2: "Another local authority", PR3: "Other public provision", PR4: "Private provision", PR5: "Voluntary or third sector provision" };
export const BASES = {
  standard: "Standard placement", reg19: "Placed with a parent before assessment (regulation 19)", reg24: "Connected person, temporarily approved (regulation 24)",
  icoWithParent: "Interim care order, living with a parent", careOrderWithParent: "Care order, living with a parent",
  otherLivingArrangements: "Other living arrangements", shortBreaks: "A series of short breaks (regulation 48)",
};
export const STATUS_TAGS = {
  overdue: ["Overdue", "red"],
  dueSoon: ["Due soon", "yellow"],
  met: ["Met", "green"],
  upcoming: ["Upcoming", "grey"],
  noSchedule: ["No schedule", "grey"],
};
export const REVIEW_STATES = {
  draft: ["Draft", "grey"],
  submitted: ["Awaiting sign-off", "blue"],
  signedOff: ["Signed off", "green"],
  returned: ["Returned for amendment", "orange"],
  amendedAfterSignOff: ["Amended after sign-off", "orange"],
  resubmitted: ["Submitted again", "blue"],
};
export const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
