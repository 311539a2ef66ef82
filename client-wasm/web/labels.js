// The words the screens show for stored codes: choices, topics, SSDA903 codes, sections.
import { draft } from "/visit.js";
import { device } from "/app.js";

export const SYNC_LABELS = {
  saving: ["Saving on this device…", "grey"],
  device: ["Saved on this device", "orange"],
  sending: ["Sending to the server…", "blue"],
  server: ["Saved to the server", "green"],
  refused: ["Not accepted by the server", "red"],
};
export const YES_NO = [["yes", "Yes"], ["no", "No"]];
export const MADE_BY = [["socialWorker", "The child's social worker"], ["personalAdviser", "A personal adviser"]];
export const CHOICES = {
  visitKind: [["statutory", "Statutory visit"], ["requested", "Requested by the child"], ["postComplaint", "After a complaint"], ["other", "Other"]],
  location: [["placement", "Where the child lives"], ["school", "School"], ["community", "Somewhere else in the community"], ["virtual", "Video call"]],
  announced: YES_NO,
  childSeen: YES_NO,
  seenAlone: YES_NO,
  notAloneReason: [["refused", "The child refused"], ["inappropriate", "It was not appropriate"], ["unable", "It was not possible"]],
  bedroomSeen: [["yes", "Yes"], ["no", "No"], ["notApplicable", "Does not apply"]],
  welfareSafeguarded: YES_NO,
  madeBy: MADE_BY,
};
export const TOPICS = [["home", "Home"], ["school", "School"], ["familyTime", "Family time"], ["friends", "Friends"], ["health", "Health"], ["feelings", "Feelings"], ["safety", "Safety"], ["hopesPlans", "Hopes and plans"], ["mySocialWorker", "My social worker"]];
export const OWNER_TYPES = [["worker", "Social worker"], ["carer", "Carer"], ["child", "The child"], ["otherAgency", "Another agency"]];
export const ACTION_STATUSES = [["open", "Still to do"], ["done", "Done"], ["cancelled", "No longer needed"]];
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
export const FIELD_NAMES = {
  visitDate: "Date of visit", visitKind: "Kind of visit", madeBy: "Visit made by", location: "Where", announced: "Announced",
  childSeen: "Child seen", seenAlone: "Seen alone", notAloneReason: "Why not seen alone",
  bedroomSeen: "Bedroom seen", welfareSafeguarded: "Welfare safeguarded", status: "Status",
};

export const SECTIONS = [
  ["details", "Visit details and purpose"],
  ["people", "Who was present"],
  ["seen", "Seen, and seen alone"],
  ["bedroom", "Bedroom"],
  ["observations", "What I saw"],
  ["voice", "The child's voice"],
  ["analysis", "Analysis"],
  ["actions", "Actions"],
  ["welfare", "Welfare safeguarded"],
];
export const sectionOf = (field) => {
  const key = field.split(/[.[]/)[0];
  return {
    visitDate: "details", visitKind: "details", madeBy: "details", location: "details", announced: "details", purpose: "details",
    personsPresent: "people", childSeen: "seen", seenAlone: "seen", notAloneReason: "seen", notAloneDetail: "seen",
    bedroomSeen: "bedroom", bedroomDetail: "bedroom", observations: "observations", voice: "voice",
    analysis: "analysis", actions: "actions", welfareSafeguarded: "welfare",
  }[key] ?? "details";
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
